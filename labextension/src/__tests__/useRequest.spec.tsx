import { act, renderHook, waitFor } from '@testing-library/react';

import { ApiError } from '../api';
import { useRequest } from '../useRequest';

/** A load whose answers the test gives, one per call, in any order. */
function answers<T>() {
  const calls: {
    fresh: boolean;
    resolve: (value: T) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const load = jest.fn(
    (fresh: boolean) =>
      new Promise<T>((resolve, reject) => calls.push({ fresh, resolve, reject }))
  );
  return { load, calls };
}

function render<T>(load: (fresh: boolean) => Promise<T>, key = 'a', reload = 0) {
  return renderHook(
    (props: { key: string; reload: number }) =>
      useRequest(load, props.key, props.reload),
    { initialProps: { key, reload } }
  );
}

describe('useRequest', () => {
  it('is loading, then has the data', async () => {
    const { load, calls } = answers<string>();
    const { result } = render(load);
    expect(result.current).toEqual({ loading: true, data: null, problem: null });
    expect(load).toHaveBeenCalledTimes(1);
    expect(calls[0].fresh).toBe(false);

    await act(async () => calls[0].resolve('models'));
    expect(result.current).toEqual({ loading: false, data: 'models', problem: null });
  });

  it("shows a failed load's problem, the API's code and hint kept", async () => {
    const { load, calls } = answers<string>();
    const { result } = render(load);
    const refused = new ApiError(403, 'forbidden', 'No access', 'Ask your admin.');
    await act(async () => calls[0].reject(refused));
    expect(result.current).toEqual({ loading: false, data: null, problem: refused });
  });

  it('turns any other failure into a problem', async () => {
    const { result } = render(() => Promise.reject(new Error('boom')));
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.problem).toEqual({
      code: 'error',
      message: 'Error: boom',
      hint: ''
    });
  });

  it('drops the old data for a new key, and does not ask fresh', async () => {
    const { load, calls } = answers<string>();
    const { result, rerender } = render(load, 'a');
    await act(async () => calls[0].resolve('data of a'));

    rerender({ key: 'b', reload: 0 });
    expect(result.current).toEqual({ loading: true, data: null, problem: null });
    expect(calls[1].fresh).toBe(false);
    await act(async () => calls[1].resolve('data of b'));
    expect(result.current.data).toBe('data of b');
  });

  it('asks fresh on reload, keeping the old data shown until the answer', async () => {
    const { load, calls } = answers<string>();
    const { result, rerender } = render(load, 'a', 0);
    await act(async () => calls[0].resolve('old'));

    rerender({ key: 'a', reload: 1 });
    expect(load).toHaveBeenCalledTimes(2);
    expect(calls[1].fresh).toBe(true);
    expect(result.current).toEqual({ loading: true, data: 'old', problem: null });
    await act(async () => calls[1].resolve('new'));
    expect(result.current).toEqual({ loading: false, data: 'new', problem: null });
  });

  it('replaces the old data by the problem when a reload fails', async () => {
    const { load, calls } = answers<string>();
    const { result, rerender } = render(load, 'a', 0);
    await act(async () => calls[0].resolve('old'));
    rerender({ key: 'a', reload: 1 });
    await act(async () => calls[1].reject(new Error('down')));
    expect(result.current.data).toBeNull();
    expect(result.current.problem?.message).toBe('Error: down');
  });

  it('does not ask again when rendered with the same key and reload', () => {
    const { load } = answers<string>();
    const { rerender } = render(load, 'a', 0);
    rerender({ key: 'a', reload: 0 });
    rerender({ key: 'a', reload: 0 });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('ignores the answer to a question no longer asked', async () => {
    const { load, calls } = answers<string>();
    const { result, rerender } = render(load, 'a');
    rerender({ key: 'b', reload: 0 });

    // a's answer arrives late: while b is asked, then after b's answer
    await act(async () => calls[0].resolve('data of a'));
    expect(result.current).toEqual({ loading: true, data: null, problem: null });
    await act(async () => calls[1].resolve('data of b'));
    await act(async () => calls[0].reject(new Error('late')));
    expect(result.current).toEqual({ loading: false, data: 'data of b', problem: null });
  });
});

import { render, screen } from '@testing-library/react';
import React from 'react';

import { loadedOnCall, loadedOnShow } from '../lazy';

/** A module that arrives when the test says. */
function arriving<M>(module: M) {
  let arrive: () => void = () => undefined;
  const arrived = new Promise<void>(resolve => (arrive = resolve));
  const load = jest.fn(async () => {
    await arrived;
    return module;
  });
  return { load, arrive };
}

describe('loadedOnCall', () => {
  it('loads the module at the first call, then calls its function with the arguments', async () => {
    const { load, arrive } = arriving({
      greet: async (name: string, times: number) => `hello ${name}`.repeat(times)
    });
    const greet = loadedOnCall(load, 'greet');
    expect(load).not.toHaveBeenCalled();

    const answer = greet('iris', 2);
    expect(load).toHaveBeenCalledTimes(1);
    arrive();
    expect(await answer).toBe('hello irishello iris');
  });
});

describe('loadedOnShow', () => {
  it('shows the fallback until the component is loaded, then it, with its props', async () => {
    const { load, arrive } = arriving({
      Model: (props: { name: string }) => <p>model {props.name}</p>
    });
    const Shown = loadedOnShow(load, 'Model', <p>loading</p>);
    expect(load).not.toHaveBeenCalled();

    const { rerender } = render(<Shown name="iris" />);
    expect(screen.getByText('loading')).toBeTruthy();
    arrive();
    expect(await screen.findByText('model iris')).toBeTruthy();

    rerender(<Shown name="wine" />);
    expect(screen.getByText('model wine')).toBeTruthy();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('loads a module of the extension by dynamic import', async () => {
    const Shown = loadedOnShow(() => import('../components/Loading'), 'Loading', <p>loading</p>);
    render(<Shown label="Reading the versions…" />);
    expect((await screen.findByRole('status')).textContent).toBe('Reading the versions…');
  });
});

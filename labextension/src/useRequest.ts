/**
 * A React hook for one REST read: loading, result or problem, and reloads.
 */
import { useEffect, useRef, useState } from 'react';

import { asProblem } from './api';
import { IProblem } from './types';

export interface IRequestState<T> {
  loading: boolean;
  data: T | null;
  problem: IProblem | null;
}

/**
 * Runs `load` when `key` changes (a new question: the old answer is dropped) or `reload`
 * changes (the same question asked again: `fresh` is true and the old answer stays shown
 * until the new one arrives). Answers to questions no longer asked are ignored.
 */
export function useRequest<T>(
  load: (fresh: boolean) => Promise<T>,
  key: string,
  reload = 0
): IRequestState<T> {
  const [state, setState] = useState<IRequestState<T>>({
    loading: true,
    data: null,
    problem: null
  });
  const asked = useRef({ key, reload });

  useEffect(() => {
    const fresh = asked.current.key === key && asked.current.reload !== reload;
    asked.current = { key, reload };
    let current = true;
    setState(previous => ({
      loading: true,
      data: fresh ? previous.data : null,
      problem: null
    }));
    load(fresh).then(
      data => current && setState({ loading: false, data, problem: null }),
      error =>
        current &&
        setState({ loading: false, data: null, problem: asProblem(error) })
    );
    return () => {
      current = false;
    };
  }, [key, reload]);

  return state;
}

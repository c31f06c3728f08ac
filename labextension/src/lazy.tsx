/**
 * Loading parts of the extension when they are first used rather than with JupyterLab: a
 * dynamic `import()` is a chunk of its own in the labextension's build, fetched at its first
 * call. What draws the panel stays in the chunk JupyterLab loads at startup.
 */
import React, { Suspense } from 'react';

type AsyncFunction = (...args: never[]) => Promise<unknown>;
type Component = (props: never) => JSX.Element;

/** `module[name]`, an async function, from a module `load`ed at the first call. */
export function loadedOnCall<M extends Record<K, AsyncFunction>, K extends keyof M>(
  load: () => Promise<M>,
  name: K
): M[K] {
  const call = async (...args: Parameters<M[K]>) => (await load())[name](...args);
  return call as M[K];
}

/** `module[name]`, a function component, from a module `load`ed when it is first shown,
 * `fallback` showing until then. */
export function loadedOnShow<M extends Record<K, Component>, K extends keyof M>(
  load: () => Promise<M>,
  name: K,
  fallback: JSX.Element
): M[K] {
  // React's types cannot follow a component's props through React.lazy generically: the
  // component is typed as M[K] again on the way out
  const Loaded = React.lazy(async () => ({
    default: (await load())[name] as unknown as React.FC<object>
  }));
  const LoadedOnShow = (props: object) => (
    <Suspense fallback={fallback}>
      <Loaded {...props} />
    </Suspense>
  );
  return LoadedOnShow as unknown as M[K];
}

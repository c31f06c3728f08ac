/**
 * Previous and Next over pages that the server hands out by token: the tokens of the pages
 * already seen are a stack, so Previous pops it.
 */
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

export interface IPages {
  /** The token of the page shown (null: the first page). */
  token: string | null;
  number: number;
  next(token: string): void;
  previous(): void;
  /** Back to the first page (the question changed). */
  reset(): void;
}

export function usePages(): IPages {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  return {
    token: stack[stack.length - 1],
    number: stack.length,
    next: token => setStack([...stack, token]),
    previous: () => setStack(stack.slice(0, -1)),
    reset: () => setStack([null])
  };
}

export function Pager(props: {
  pages: IPages;
  nextToken: string | null;
  label: string;
}): JSX.Element | null {
  const { pages, nextToken } = props;
  if (pages.number === 1 && !nextToken) {
    return null;
  }
  return (
    <nav className="jp-MlflowGroups-pager" aria-label={props.label}>
      <Button
        small
        minimal
        disabled={pages.number === 1}
        onClick={() => pages.previous()}
      >
        Previous
      </Button>
      <span className="jp-MlflowGroups-pageNumber">Page {pages.number}</span>
      <Button
        small
        minimal
        disabled={!nextToken}
        onClick={() => nextToken && pages.next(nextToken)}
      >
        Next
      </Button>
    </nav>
  );
}

/**
 * A moment: `2026-12-02 08:39`, or how long ago in lists people scan ("3 min ago"); the full
 * timestamp (ISO, with the offset) on hover.
 */
import React, { useEffect, useState } from 'react';

import { formatAgo, formatTime, fullTimestamp } from '../format';

const MINUTE = 60_000;

export function Time(props: {
  iso: string | null | undefined;
  /** How long ago, kept up to date, rather than the day and time. */
  ago?: boolean;
}): JSX.Element | null {
  const { iso, ago } = props;
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!ago) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), MINUTE);
    return () => window.clearInterval(timer);
  }, [ago]);
  if (!iso) {
    return null;
  }
  return (
    <time dateTime={iso} title={fullTimestamp(iso)}>
      {ago ? formatAgo(iso, now) : formatTime(iso)}
    </time>
  );
}

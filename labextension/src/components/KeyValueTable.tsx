/**
 * Parameters or tags: a two-column table, keys sorted.
 */
import React from 'react';

export function KeyValueTable(props: {
  values: Record<string, string>;
  empty: string;
}): JSX.Element {
  const keys = Object.keys(props.values).sort();
  if (keys.length === 0) {
    return <p className="jp-MlflowGroups-empty">{props.empty}</p>;
  }
  return (
    <table className="jp-MlflowGroups-keyValues">
      <tbody>
        {keys.map(key => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{props.values[key]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

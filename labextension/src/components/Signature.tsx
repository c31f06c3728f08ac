/**
 * A version's signature: the inputs the model takes and the outputs it returns.
 */
import React from 'react';

import { ISignature, ISignatureField } from '../types';

/** A field's type as people read it (the compare tab shows it too). */
export function typeOf(field: ISignatureField): string {
  const tensor = field['tensor-spec'];
  if (tensor) {
    return `tensor of ${tensor.dtype}, shape (${tensor.shape.join(', ')})`;
  }
  return field.required === false ? `${field.type} (optional)` : field.type;
}

function Fields(props: { title: string; fields: ISignatureField[] | null }): JSX.Element {
  return (
    <table className="jp-MlflowGroups-keyValues jp-MlflowGroups-signature">
      <caption>{props.title}</caption>
      <tbody>
        {(props.fields ?? []).map((field, index) => (
          <tr key={field.name ?? index}>
            <th scope="row">{field.name ?? '(no name)'}</th>
            <td>{typeOf(field)}</td>
          </tr>
        ))}
        {!props.fields?.length && (
          <tr>
            <td colSpan={2} className="jp-MlflowGroups-empty">
              Not described
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

export function Signature(props: { signature: ISignature | null }): JSX.Element {
  const { signature } = props;
  if (!signature) {
    return (
      <p className="jp-MlflowGroups-empty">
        No signature: the model was logged without one (or its MLmodel file could not be
        read), so its inputs and outputs are not described.
      </p>
    );
  }
  return (
    <>
      <Fields title="Inputs" fields={signature.inputs} />
      <Fields title="Outputs" fields={signature.outputs} />
    </>
  );
}

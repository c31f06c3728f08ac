/**
 * The sidebar's icon: a model flowing from its runs (drawn in the theme's icon colour).
 */
import { LabIcon } from '@jupyterlab/ui-components';

import svgstr from '../style/mlflow.svg';

export const mlflowIcon = new LabIcon({
  name: 'jupyter-mlflow-groups:mlflow',
  svgstr
});

import { invocationSnippets } from '../components/Invocations';

describe('invocationSnippets', () => {
  const url = 'http://lab.example/mlflow-groups/groups/team-a/deployments/prod/invocations';
  const { notebook, http } = invocationSnippets('team-a', 'prod', url);

  it('calls the deployment through the group target from a notebook', () => {
    expect(notebook).toBe(
      'import pandas as pd\n' +
        'from mlflow.deployments import get_deploy_client\n\n' +
        'client = get_deploy_client("jupyter-mlflow-groups:/team-a")\n' +
        'client.predict("prod", pd.DataFrame([[0]], columns=["feature"]))'
    );
  });

  it('POSTs a dataframe_split row to the invocations URL with a Jupyter token', () => {
    expect(http).toBe(
      'import requests\n\n' +
        'answer = requests.post(\n' +
        `    "${url}",\n` +
        '    json={"dataframe_split": {"columns": ["feature"], "data": [[0]]}},\n' +
        '    headers={"Authorization": "token <your Jupyter token>"},\n' +
        ')\n' +
        'answer.json()["predictions"]'
    );
  });
});

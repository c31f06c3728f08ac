import { SidebarModel } from '../model';

describe('SidebarModel', () => {
  let model: SidebarModel;

  beforeEach(() => {
    model = new SidebarModel();
  });

  afterEach(() => model.dispose());

  it('opens the Models tab where it was left: the model or version open', () => {
    model.show({ kind: 'version', name: 'iris', version: '3' });
    model.showTab('deployments');
    expect(model.view).toEqual({ kind: 'deployments' });
    expect(model.tab).toBe('deployments');
    model.showTab('models');
    expect(model.view).toEqual({ kind: 'version', name: 'iris', version: '3' });
    expect(model.tab).toBe('models');
  });

  it('keeps the last place of the Models tab, back to the list included', () => {
    model.show({ kind: 'model', name: 'iris' });
    model.show({ kind: 'models' });
    model.showTab('deployments');
    model.showTab('models');
    expect(model.view).toEqual({ kind: 'models' });
  });

  it("forgets the place when the group changes: it was the old group's", () => {
    model.show({ kind: 'model', name: 'iris' });
    model.groupSwitched();
    model.showTab('deployments');
    model.showTab('models');
    expect(model.view).toEqual({ kind: 'models' });
  });

  it('shows the Requests tab and comes back to the Models tab where it was left', () => {
    model.show({ kind: 'model', name: 'iris' });
    model.showTab('requests');
    expect(model.view).toEqual({ kind: 'requests' });
    expect(model.tab).toBe('requests');
    model.showTab('models');
    expect(model.view).toEqual({ kind: 'model', name: 'iris' });
  });
});

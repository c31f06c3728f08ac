import {
  aliasProblem,
  needsReview,
  pendingCount,
  requestSummary,
  tagEdits,
  tagsText,
  writeAccess
} from '../aliases';
import { IAliasRecord, IGroup } from '../types';

function group(write: 'members' | 'admins' | 'nobody', admin = false): IGroup {
  return {
    name: 'fraud',
    mode: 'external',
    tracking_uri: null,
    ui_url: null,
    workspace: null,
    auth: 'none',
    valid: true,
    problems: [],
    active: true,
    admin,
    registry: { write, protected_aliases: ['champion'] }
  };
}

function record(fields: Partial<IAliasRecord>): IAliasRecord {
  return {
    id: 'r1',
    action: 'set',
    model: 'iris',
    alias: 'champion',
    version: '4',
    previous: '3',
    requested_by: 'alice',
    requested_at: null,
    reason: null,
    status: 'pending',
    decided_by: null,
    decided_at: null,
    comment: null,
    message: null,
    ui_url: null,
    ...fields
  };
}

describe('aliasProblem', () => {
  it('takes the names MLflow takes, with or without the @ people type', () => {
    for (const name of ['champion', '@staging', 'a-b_C9', 'x'.repeat(255), 'version2']) {
      expect(aliasProblem(name)).toBeNull();
    }
  });

  it("refuses MLflow's own names: latest and v<number>", () => {
    expect(aliasProblem('latest')).toMatch('keeps @latest');
    expect(aliasProblem('v3')).toMatch('keeps @v3');
  });

  it('refuses empty names, other characters and names too long', () => {
    expect(aliasProblem('  ')).toMatch('Name the alias');
    expect(aliasProblem('a b')).toMatch('letters, digits');
    expect(aliasProblem('prod.1')).toMatch('letters, digits');
    expect(aliasProblem('x'.repeat(256))).toMatch('at most 255');
  });
});

describe('writeAccess', () => {
  it('lets members write by default and when the policy says members', () => {
    expect(writeAccess(group('members')).allowed).toBe(true);
    expect(writeAccess({ ...group('members'), registry: undefined }).allowed).toBe(true);
  });

  it('lets only admins write under write: admins, and says why to the others', () => {
    expect(writeAccess(group('admins', true)).allowed).toBe(true);
    expect(writeAccess(group('admins'))).toEqual({
      allowed: false,
      why: "Group 'fraud' lets only its admins change its registry through Jupyter."
    });
  });

  it('lets nobody write under write: nobody, admins included', () => {
    expect(writeAccess(group('nobody', true)).why).toBe(
      "Group 'fraud' lets nobody change its registry through Jupyter."
    );
  });
});

describe('needsReview', () => {
  it("is true for a member's change of a protected alias only", () => {
    expect(needsReview(group('members'), 'champion')).toBe(true);
    expect(needsReview(group('members'), 'staging')).toBe(false);
    expect(needsReview(group('members', true), 'champion')).toBe(false);
  });
});

describe('requestSummary', () => {
  it('says the move, with the version before', () => {
    expect(requestSummary(record({}))).toBe("Point @champion of 'iris' at v4 (was v3)");
    expect(requestSummary(record({ previous: null }))).toBe("Point @champion of 'iris' at v4");
  });

  it('says a removal', () => {
    expect(requestSummary(record({ action: 'remove', version: null }))).toBe(
      "Remove @champion of 'iris' (was v3)"
    );
  });

  it('counts the pending ones', () => {
    const records = [record({}), record({ status: 'approved' }), record({ status: 'pending' })];
    expect(pendingCount(records)).toBe(2);
    expect(pendingCount(undefined)).toBe(0);
  });
});

describe('tagEdits', () => {
  const before = { team: 'fraud', stage: 'dev' };

  it('round-trips: tags edited as text and not changed send nothing', () => {
    expect(tagEdits(before, tagsText(before))).toEqual({ tags: {}, problem: null });
  });

  it('sends changed and new tags, and null for removed lines', () => {
    expect(tagEdits(before, 'team: fraud\nstage: prod\nowner: a:b\n\n')).toEqual({
      tags: { stage: 'prod', owner: 'a:b' },
      problem: null
    });
    expect(tagEdits(before, 'team: fraud').tags).toEqual({ stage: null });
  });

  it('says which line is not key: value', () => {
    expect(tagEdits(before, 'team: fraud\njust words').problem).toBe(
      'Line 2 is not "key: value": just words'
    );
    expect(tagEdits(before, ': no key').problem).toMatch('Line 1');
  });
});

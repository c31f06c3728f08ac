/**
 * The panel's dialogs, loaded when one is first opened: promoting (set, move and remove an
 * alias, edit a version, decide a request) and deploying. Call these, not promote.ts and
 * deploy.ts, so that neither is in the chunk that draws the panel.
 */
import { loadedOnCall } from './lazy';

const promote = () => import(/* webpackChunkName: "promote" */ './promote');
const deploy = () => import(/* webpackChunkName: "deploy" */ './deploy');

export const setAlias = loadedOnCall(promote, 'setAlias');
export const removeAlias = loadedOnCall(promote, 'removeAlias');
export const editVersion = loadedOnCall(promote, 'editVersion');
export const decideRequest = loadedOnCall(promote, 'decideRequest');
export const deployVersion = loadedOnCall(deploy, 'deployVersion');

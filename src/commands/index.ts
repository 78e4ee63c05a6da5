import { defineGroup } from './define.js';
import type { AnyCommand } from './define.js';
import register from './register.js';
import status from './status.js';
import jobs from './jobs.js';
import bulk from './bulk.js';
import report from './report.js';
import capture from './capture.js';
import selfieCheck from './selfie-check.js';
import selfiePrepare from './selfie-prepare.js';
import profileAdd from './profile-add.js';
import profileList from './profile-list.js';
import profileUse from './profile-use.js';
import profileShow from './profile-show.js';
import profileRemove from './profile-remove.js';
import profileSet from './profile-set.js';
import emulator from './emulator.js';
import explain from './explain.js';
import doctor from './doctor.js';
import callbackVerify from './callback-verify.js';
import callbackListen from './callback-listen.js';
import completion from './completion.js';
import help from './help.js';
import version from './version.js';

/** Every command of smile, in the order `smile --help` lists them. */
export const COMMANDS: readonly AnyCommand[] = [
  register,
  status,
  jobs,
  bulk,
  report,
  capture,
  defineGroup({
    name: 'selfie',
    summary: 'check or prepare selfie files (nothing is sent)',
    commands: [selfieCheck, selfiePrepare],
  }),
  defineGroup({
    name: 'profile',
    summary: 'config profiles: partner id, environment, base URL, default callback',
    commands: [profileAdd, profileList, profileUse, profileShow, profileSet, profileRemove],
  }),
  emulator,
  explain,
  doctor,
  defineGroup({
    name: 'callback',
    summary: "Smile ID's result callbacks: verify a body, or run a ready endpoint",
    commands: [callbackVerify, callbackListen],
  }),
  completion,
  help,
  version,
];

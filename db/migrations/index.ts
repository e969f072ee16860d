import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_users.ts';
import * as m0003 from './0003_rendered_fields.ts';
import * as m0004 from './0004_sessions.ts';
import * as m0005 from './0005_encrypted_secrets.ts';
import * as m0006 from './0006_ti_scheduled_in_run.ts';
import * as m0007 from './0007_task_reschedule.ts';
import * as m0008 from './0008_task_instance_limits.ts';
import * as m0009 from './0009_triggerer.ts';

/**
 * Every migration in order. Append only: never edit, remove or reorder an
 * entry that has been released, because databases remember names.
 */
export const MIGRATIONS = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009] as const;

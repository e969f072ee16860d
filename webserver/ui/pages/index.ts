import type { UiPages } from '../router.ts';
import { adminPages } from './admin/index.ts';
import { dagPages } from './dag/index.ts';
import { dagListPages } from './dagList.ts';
import { taskInstancePages } from './taskInstance.ts';
import { triggerPages } from './trigger.ts';

/** Every UI page module, registered after login (literal paths before parameterised ones within a module). */
export const UI_PAGES: UiPages[] = [dagListPages, adminPages, triggerPages, taskInstancePages, dagPages];

import type { UiPages } from '../router.ts';
import { dagListPages } from './dagList.ts';

/** Every UI page module, registered after login. */
export const UI_PAGES: UiPages[] = [dagListPages];

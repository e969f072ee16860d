import { isoOrNull } from '../../../core/isoDate.ts';
import { VERSION } from '../../../core/version.ts';
import { latestSchedulerHeartbeat } from '../../../db/models/job.ts';
import { defineRoute } from '../defineRoute.ts';

/** GET /health and GET /version: no authentication, as in Airflow. */
export const monitoringRoutes = [
  defineRoute({
    method: 'get',
    path: '/health',
    summary: 'Health of the metadatabase and the scheduler (no authentication)',
    tag: 'Monitoring',
    permission: 'public',
    handler: async (_input, { knex, config }) => {
      let metadatabase = 'healthy';
      let latest: Awaited<ReturnType<typeof latestSchedulerHeartbeat>> = null;
      try {
        latest = await latestSchedulerHeartbeat(knex);
      } catch {
        metadatabase = 'unhealthy';
      }
      // Airflow calls a scheduler healthy if it heartbeat within scheduler_health_check_threshold (30 s by default).
      const thresholdMs = Math.max(30, config.scheduler.schedulerHeartbeatSec * 3) * 1000;
      // Judged by the database's clock, like every liveness check (db/models/job.ts).
      const scheduler = latest && latest.ageMs <= thresholdMs ? 'healthy' : 'unhealthy';
      return {
        metadatabase: { status: metadatabase },
        scheduler: { status: scheduler, latest_scheduler_heartbeat: isoOrNull(latest?.heartbeat ?? null) },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/version',
    summary: 'The airflow-ts version',
    tag: 'Monitoring',
    permission: 'public',
    handler: async () => ({ version: VERSION, git_version: null }),
  }),
];

import { isoOrNull } from '../../../core/isoDate.ts';
import { VERSION } from '../../../cli/commands/version.ts';
import { defineRoute } from '../defineRoute.ts';

/** GET /health and GET /version: no authentication, as in Airflow. */
export const monitoringRoutes = [
  defineRoute({
    method: 'get',
    path: '/health',
    summary: 'Health of the metadatabase and the scheduler (no authentication)',
    tag: 'Monitoring',
    permission: 'public',
    handler: async (_input, { knex, config, now }) => {
      let metadatabase = 'healthy';
      let heartbeat: Date | null = null;
      try {
        const row = await knex('job').where({ job_type: 'SchedulerJob' }).orderBy('latest_heartbeat', 'desc').first('latest_heartbeat', 'state');
        heartbeat = row?.latest_heartbeat ?? null;
      } catch {
        metadatabase = 'unhealthy';
      }
      // Airflow calls a scheduler healthy if it heartbeat within scheduler_health_check_threshold (30 s by default).
      const thresholdMs = Math.max(30, config.scheduler.schedulerHeartbeatSec * 3) * 1000;
      const scheduler = heartbeat && now().getTime() - heartbeat.getTime() <= thresholdMs ? 'healthy' : 'unhealthy';
      return {
        metadatabase: { status: metadatabase },
        scheduler: { status: scheduler, latest_scheduler_heartbeat: isoOrNull(heartbeat) },
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

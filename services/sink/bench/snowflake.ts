// The Snowflake test server both sink benchmarks write into, and the sink's env for it
// (password auth: the server is local and throwaway).
import { startSnowflakeTestServer } from '@ehr/snowflake-test-server';

export async function startBenchSnowflake(databasePath: string): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const server = await startSnowflakeTestServer({ port: 0, databasePath, users: { sink: 'bench-password' } });
  return {
    env: {
      SINK_WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: 'bench',
      SNOWFLAKE_USER: 'sink',
      SNOWFLAKE_PASSWORD: 'bench-password',
      SNOWFLAKE_DATABASE: 'EHR',
      SNOWFLAKE_WAREHOUSE: 'WH',
      SNOWFLAKE_ACCESS_URL: server.url,
    },
    stop: () => server.stop(),
  };
}

import { ConfigError } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseServiceUrls } from '../src/index.js';

describe('dashboard config', () => {
  it('defaults to port 3000 and its own group; the services to watch come from whoever runs it', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, DASHBOARD_GROUP_ID: 'dashboard', DASHBOARD_PUSH_INTERVAL_MS: 250 });
    expect(parseServiceUrls(config.DASHBOARD_SERVICE_URLS)).toEqual([]);
    expect(parseServiceUrls(loadConfig({ DASHBOARD_SERVICE_URLS: 'producer=http://127.0.0.1:3001,sink=http://sink:3004' }).DASHBOARD_SERVICE_URLS)).toEqual([
      { name: 'producer', url: 'http://127.0.0.1:3001' },
      { name: 'sink', url: 'http://sink:3004' },
    ]);
  });

  it('fails fast naming the variable when the service list is malformed', () => {
    expect(() => loadConfig({ DASHBOARD_SERVICE_URLS: 'producer=http://x:1,scoring' })).toThrow(ConfigError);
    expect(() => loadConfig({ DASHBOARD_SERVICE_URLS: 'scoring=ftp://x' })).toThrow(/DASHBOARD_SERVICE_URLS/);
    expect(() => loadConfig({ DASHBOARD_PUSH_INTERVAL_MS: 'soon' })).toThrow(/DASHBOARD_PUSH_INTERVAL_MS/);
    expect(parseServiceUrls(' sink=http://sink:3004/ , ')).toEqual([{ name: 'sink', url: 'http://sink:3004' }]);
  });
});

export { startSnowflakeTestServer } from './server.js';
export type { HeldStatement, SnowflakeTestServer, SnowflakeTestServerOptions, SnowflakeTestServerStats } from './server.js';
export { translate, finalizeParams } from './sql/translate.js';
export type { Translation, SqlTranslation, CommandTranslation, Command, TranslateContext } from './sql/translate.js';
export { tokenize } from './sql/tokenizer.js';
export { SnowflakeError, ErrorCode } from './errors.js';
export { checkJwt } from './auth.js';
export type { Logger } from './logger.js';

import { workspaceTestConfig } from '../../vitest.shared.ts';

// Fault tests stream, break something, wait for recovery and account for every event: each
// has its own hard deadlines inside; this is the outer bound.
export default workspaceTestConfig({ kafkaTimeoutMs: 420_000 });

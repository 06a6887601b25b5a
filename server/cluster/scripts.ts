// The Lua scripts that change a topic's keys atomically. Redis runs a script alone, so a commit
// that checked the epoch and version cannot interleave with another hub's commit.

/**
 * Commits a batch of changes made on top of `expectedVersion`.
 * KEYS: doc, meta, log, idempotency key. ARGV: epoch, expectedVersion, final document JSON,
 * history limit, idempotency TTL (ms), then the ops (JSON) of each new version in order.
 * Returns {"ok", newVersion} | {"conflict", currentVersion} | {"epoch", currentEpoch} |
 * {"done", version} (this batch was committed before: its reply was lost).
 */
export const COMMIT_SCRIPT = `
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if epoch ~= ARGV[1] then return {'epoch', epoch or ''} end
local done = redis.call('GET', KEYS[4])
if done then return {'done', done} end
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if version ~= tonumber(ARGV[2]) then return {'conflict', tostring(version)} end
local limit = tonumber(ARGV[4])
for i = 6, #ARGV do
  version = version + 1
  redis.call('XADD', KEYS[3], 'MAXLEN', limit, version .. '-0', 'ops', ARGV[i])
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'version', version)
redis.call('SET', KEYS[4], version, 'PX', ARGV[5])
return {'ok', tostring(version)}
`;

/**
 * Opens a topic for a hub. A store without the topic's meta hash (empty, or it lost its data)
 * or run by another Redis process than the one that wrote it (restarted: it may hold less than
 * was acknowledged) starts a new epoch, so no client is ever sent patches that do not follow
 * what it holds. The document is seeded when missing.
 * KEYS: doc, meta, log. ARGV: runId, a new epoch, the seed document JSON.
 * Returns {"created" | "restarted" | "same", epoch}.
 */
export const OPEN_SCRIPT = `
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'runId')
if meta[1] and meta[2] == ARGV[1] then return {'same', meta[1]} end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[2], 'epoch', ARGV[2], 'version', 0, 'runId', ARGV[1])
if meta[1] then return {'restarted', ARGV[2]} end
return {'created', ARGV[2]}
`;

/** Renews a lease only if this hub still holds it. KEYS: lease. ARGV: holder, ttl ms. */
export const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** Releases a lease only if this hub holds it. KEYS: lease. ARGV: holder. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/* Lua sources of the queue scripts. Each is one atomic step of the reliable-fetch protocol. */
#include "scripts.h"

pnw_script_t pnw_script_cycle = {
    "cycle",
    "local id = ARGV[1]\n"
    "local pre = 'pn:working:' .. id .. ':'\n"
    "local run = 'pn:running:' .. id\n"
    "local ndone = tonumber(ARGV[3])\n"
    "local i = 4\n"
    "local processed, failed, dead = 0, 0, false\n"
    "for _ = 1, ndone do\n"
    "  local kind, q, p = ARGV[i], ARGV[i + 1], ARGV[i + 2]\n"
    "  redis.call('LREM', pre .. q, -1, p)\n"
    "  if ARGV[i + 5] == '1' then redis.call('LREM', run, -1, p) end\n"
    "  if kind == 'a' then processed = processed + 1\n"
    "  elseif kind == 'r' then redis.call('ZADD', 'retry', ARGV[i + 3], ARGV[i + 4])\n"
    "    processed = processed + 1; failed = failed + 1\n"
    "  elseif kind == 'd' then redis.call('ZADD', 'dead', ARGV[i + 3], ARGV[i + 4])\n"
    "    processed = processed + 1; failed = failed + 1; dead = true\n"
    "  elseif kind == 'x' then processed = processed + 1; failed = failed + 1\n"
    "  elseif kind == 's' then redis.call('ZADD', 'schedule', ARGV[i + 3], ARGV[i + 4])\n"
    "  elseif kind == 'p' then redis.call('RPUSH', 'queue:' .. q, p)\n"
    "  end\n"
    "  i = i + 6\n"
    "end\n"
    "local nstart = tonumber(ARGV[i])\n"
    "for k = i + 1, i + nstart do redis.call('RPUSH', run, ARGV[k]) end\n"
    "i = i + nstart + 1\n"
    "local function bump(k, n)\n"
    "  if n > 0 then\n"
    "    redis.call('INCRBY', 'stat:' .. k, n)\n"
    "    if redis.call('INCRBY', 'stat:' .. k .. ':' .. ARGV[2], n) == n then\n"
    "      redis.call('EXPIRE', 'stat:' .. k .. ':' .. ARGV[2], 157680000)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "bump('processed', processed)\n"
    "bump('failed', failed)\n"
    "local nfetch = tonumber(ARGV[i])\n"
    "if dead then\n"
    "  redis.call('ZREMRANGEBYSCORE', 'dead', '-inf', ARGV[i + 2])\n"
    "  redis.call('ZREMRANGEBYRANK', 'dead', 0, -(tonumber(ARGV[i + 1]) + 1))\n"
    "end\n"
    "local nq = tonumber(ARGV[i + 3])\n"
    "local out = {}\n"
    "if nfetch > 0 then\n"
    "  redis.call('SADD', 'pn:procs', id)\n"
    "  for k = i + 4, i + 3 + nq do\n"
    "    local q = ARGV[k]\n"
    "    while #out < 2 * nfetch do\n"
    "      local j = redis.call('LMOVE', 'queue:' .. q, pre .. q, 'RIGHT', 'LEFT')\n"
    "      if not j then break end\n"
    "      out[#out + 1] = q\n"
    "      out[#out + 1] = j\n"
    "    end\n"
    "    if #out >= 2 * nfetch then break end\n"
    "  end\n"
    "end\n"
    "return out\n",
    ""};

pnw_script_t pnw_script_register = {
    "register",
    "local id = ARGV[1]\n"
    "redis.call('SADD', 'pn:procs', id)\n"
    "redis.call('SET', 'pn:alive:' .. id, '1', 'PX', ARGV[2])\n"
    "for k = 3, #ARGV do redis.call('SADD', 'pn:procq:' .. id, ARGV[k]) end\n"
    "return 1\n",
    ""};

pnw_script_t pnw_script_reap = {
    "reap",
    "local moved, charged = 0, 0\n"
    "for _, id in ipairs(redis.call('SMEMBERS', 'pn:procs')) do\n"
    "  if id ~= ARGV[1] and redis.call('EXISTS', 'pn:alive:' .. id) == 0 then\n"
    "    local running = {}\n"
    "    for _, p in ipairs(redis.call('LRANGE', 'pn:running:' .. id, 0, -1)) do\n"
    "      running[p] = (running[p] or 0) + 1\n"
    "    end\n"
    "    for _, q in ipairs(redis.call('SMEMBERS', 'pn:procq:' .. id)) do\n"
    "      local wk = 'pn:working:' .. id .. ':' .. q\n"
    "      local n = 0\n"
    "      while true do\n"
    "        local p = redis.call('LPOP', wk)\n"
    "        if not p then break end\n"
    "        if running[p] and running[p] > 0 then\n"
    "          running[p] = running[p] - 1\n"
    "          redis.call('RPUSH', 'pn:orphans:' .. q, p)\n"
    "          n = n + 1\n"
    "        else\n"
    "          redis.call('SADD', 'queues', q)\n"
    "          redis.call('RPUSH', 'queue:' .. q, p)\n"
    "        end\n"
    "        moved = moved + 1\n"
    "      end\n"
    "      if n > 0 then redis.call('SADD', 'pn:orphanq', q) end\n"
    "      charged = charged + n\n"
    "    end\n"
    "    redis.call('DEL', 'pn:procq:' .. id, 'pn:running:' .. id, id, id .. ':workers')\n"
    "    redis.call('SREM', 'pn:procs', id)\n"
    "    redis.call('SREM', 'processes', id)\n"
    "  end\n"
    "end\n"
    "return {moved, charged}\n",
    ""};

pnw_script_t pnw_script_orphan = {
    "orphan",
    "local ok = 'pn:orphans:' .. ARGV[1]\n"
    "if redis.call('LINDEX', ok, -1) ~= ARGV[2] then return 0 end\n"
    "redis.call('RPOP', ok)\n"
    "if ARGV[3] == 'd' then\n"
    "  redis.call('ZADD', 'dead', ARGV[5], ARGV[4])\n"
    "  redis.call('ZREMRANGEBYSCORE', 'dead', '-inf', ARGV[7])\n"
    "  redis.call('ZREMRANGEBYRANK', 'dead', 0, -(tonumber(ARGV[6]) + 1))\n"
    "else\n"
    "  redis.call('SADD', 'queues', ARGV[1])\n"
    "  redis.call('LPUSH', 'queue:' .. ARGV[1], ARGV[4])\n"
    "end\n"
    "if redis.call('LLEN', ok) == 0 then redis.call('SREM', 'pn:orphanq', ARGV[1]) end\n"
    "return 1\n",
    ""};

/* Invalid JSON or a missing queue goes to queue:default, where the worker's decoder sends it
 * to the dead set with a reason; the payload itself is pushed unchanged (re-encoding in Lua
 * would round big integers). */
pnw_script_t pnw_script_poll = {
    "poll",
    "local moved = 0\n"
    "for _, set in ipairs({'schedule', 'retry'}) do\n"
    "  local due = redis.call('ZRANGEBYSCORE', set, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "  for _, job in ipairs(due) do\n"
    "    if redis.call('ZREM', set, job) == 1 then\n"
    "      local ok, j = pcall(cjson.decode, job)\n"
    "      local q = 'default'\n"
    "      if ok and type(j) == 'table' and type(j.queue) == 'string' and\n"
    "         string.match(j.queue, '^[a-z0-9_-]+$') and #j.queue <= 64 then q = j.queue end\n"
    "      redis.call('SADD', 'queues', q)\n"
    "      redis.call('LPUSH', 'queue:' .. q, job)\n"
    "      moved = moved + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return moved\n",
    ""};

pnw_script_t pnw_script_release = {
    "release",
    "local id = ARGV[1]\n"
    "local n = 0\n"
    "for _, q in ipairs(redis.call('SMEMBERS', 'pn:procq:' .. id)) do\n"
    "  while redis.call('LMOVE', 'pn:working:' .. id .. ':' .. q, 'queue:' .. q, 'LEFT',\n"
    "                   'RIGHT') do\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', 'pn:procq:' .. id, 'pn:alive:' .. id, 'pn:running:' .. id, id,\n"
    "           id .. ':workers')\n"
    "redis.call('SREM', 'pn:procs', id)\n"
    "redis.call('SREM', 'processes', id)\n"
    "return n\n",
    ""};

pnw_script_t pnw_script_cron = {
    "cron",
    "if not redis.call('SET', ARGV[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end\n"
    "redis.call('SADD', 'queues', ARGV[3])\n"
    "redis.call('LPUSH', 'queue:' .. ARGV[3], ARGV[4])\n"
    "return 1\n",
    ""};

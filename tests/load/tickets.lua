-- POST /v1/tickets, each request with its own Idempotency-Key, and every LOAD_REPLAY_EVERY-th
-- request a deliberate replay of a key this thread sent before (same body, so the service must
-- answer with the stored ticket, not make a second one). The key travels in the message too,
-- so each 201 tells which key it acknowledges. With LOAD_OUT set, every new key goes to
-- LOAD_OUT/sent-THREAD.txt and every 201 to LOAD_OUT/ack-THREAD.txt as
-- "KEY TICKET_ID REPLAYED(0|1)"; soak.py reads those files once wrk has exited (and so
-- flushed them).
-- Environment: LOAD_DIR, LOAD_TOKEN, LOAD_OUT, LOAD_RUN (a prefix unique to the run),
-- LOAD_REPLAY_EVERY (default 10; 0: no replays).
dofile(os.getenv("LOAD_DIR") .. "/common.lua")

local token = os.getenv("LOAD_TOKEN")
local run = os.getenv("LOAD_RUN") or "run"
local replay_every = tonumber(os.getenv("LOAD_REPLAY_EVERY") or "10")
local sent = {}
local n = 0
local out, sent_log = nil, nil

function init(args)
   local dir = os.getenv("LOAD_OUT")
   if dir then
      out = assert(io.open(string.format("%s/ack-%d.txt", dir, thread_no), "w"))
      sent_log = assert(io.open(string.format("%s/sent-%d.txt", dir, thread_no), "w"))
   end
   math.randomseed(os.time() + thread_no)
end

local function ticket_request(key)
   return wrk.format("POST", "/v1/tickets", {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = key,
   }, string.format('{"category":"app","priority":"low","message":"soak %s"}', key))
end

function request()
   n = n + 1
   if replay_every > 0 and n % replay_every == 0 and #sent > 0 then
      return ticket_request(sent[math.random(#sent)])
   end
   local key = string.format("%s-%d-%d", run, thread_no, n)
   table.insert(sent, key)
   if sent_log then
      sent_log:write(key, "\n")
   end
   return ticket_request(key)
end

function response(status, headers, body)
   count_status(status)
   if status == 201 and out then
      local id = string.match(body, '^{"id":"(tkt_[0-9a-f]+)"')
      local key = string.match(body, '"message":"soak ([^"]+)"')
      local replayed = headers["Idempotent-Replayed"] == "true" and 1 or 0
      out:write(string.format("%s %s %d\n", key or "?", id or "?", replayed))
   end
end

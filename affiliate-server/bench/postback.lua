-- wrk script for bench/postgres.sh: POST /v1/postback with a new order id per request
-- (coupon evidence), counting the answers by status.
-- Arguments after `--`: a prefix unique to this wrk run, then the API key.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = string.format("%s-%d-", args[1], id)
  key = args[2]
  n, created, replayed, other = 0, 0, 0, 0
end

function request()
  n = n + 1
  local body = '{"order_id":"' .. prefix .. n ..
    '","amount":"10.00","currency":"USD","coupon":"ABC10","campaign":"haircare"}'
  return wrk.format("POST", "/v1/postback",
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end

function response(status)
  if status == 201 then created = created + 1
  elseif status == 200 then replayed = replayed + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, r, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); r = r + t:get("replayed"); o = o + t:get("other")
  end
  io.write(string.format("answers: %d created, %d replayed, %d other\n", c, r, o))
end

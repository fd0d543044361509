-- The concurrent-asks row's upstream (bench/nginx.conf.in, its asks port):
-- the emulator's conversation for the bench's one question, served as
-- cheaply as nginx can, so that 1000 asks measure the client and not the
-- emulator's bookkeeping (its shared-dict event log, JSON encoding, catalog
-- search, 10 ms polling). The client sees what the emulator sends it: the
-- same events (typing, two tool steps, ten chunks, typing, the final
-- message), the same sizes (ids are v4-shaped, 36 characters), the same
-- pacing (30 ms between events, the last two together), an HTTP/1.1
-- chunked event stream and a 201 with Content-Length for the send, each
-- over its own loopback connection.
--
-- State is per worker (the bench nginx runs one): chat id -> its event
-- counter, the frames queued for its stream, and a semaphore the send
-- posts to wake the stream.
local semaphore = require "ngx.semaphore"

local M = {}

local DELAY = 30  -- ms: the emulator's default --chunk-delay-ms

local function now_ms() return math.floor(ngx.now() * 1000 + 0.5) end

local seq = 0
local function uuid()
  seq = seq + 1
  return ("%08x-%04x-4%03x-a%03x-%012x"):format(ngx.worker.pid(), seq % 65536, 0, 0, seq)
end

local chats = {}
local function chat(id)
  local c = chats[id]
  if not c then
    c = { n = 0, queue = {}, sem = semaphore.new(0) }
    chats[id] = c
  end
  return c
end

-- The emulator's answer to "Does the blue hoodie come in size L?" on the
-- blue hoodie's page (its fields in the emulator's order: sorted keys).
local CONTENT = "Yes! Size L is in stock: we have 12 of the Blue Hoodie left at 59.99 EUR. "
  .. "A cosy everyday layer that pairs well with our Slim Fit Blue Jeans."
local PRODUCTS = '[{"availability":{"quantity":12,"status":"in_stock"},"brand":"Homie","category":"hoodies",'
  .. '"currency":"EUR","description":"Soft brushed-cotton hoodie in ocean blue with a kangaroo pocket.",'
  .. '"designation":"Blue Hoodie","flags":[{"text":"12 item(s) available","title":"In stock","type":"availability"},'
  .. '{"text":"L","title":"Size","type":"size"}],"gtin":"1234567890123",'
  .. '"image":"https://store.com/images/blue-hoodie.png","location":[{"key":"warehouse","value":"Berlin"},'
  .. '{"key":"aisle","value":"hoodies"}],"price":59.99,'
  .. '"priceInfo":"59.99 EUR incl. VAT, free shipping from 50 EUR","query":"blue hoodie size L",'
  .. '"recommendationText":"A cosy everyday layer that pairs well with our Slim Fit Blue Jeans.",'
  .. '"url":"https://store.com/products/blue-hoodie"}]'
local SUGGESTIONS = '["What other colours does it come in?","How does the sizing run?","Do you have matching jeans?"]'
local QUERY = "blue hoodie size L"

-- The chunks, as the emulator splits a reply: three words each.
local PIECES = {}
do
  local group, n = "", 0
  for word in CONTENT:gmatch("%S+%s*") do
    group, n = group .. word, n + 1
    if n == 3 then PIECES[#PIECES + 1], group, n = group, "", 0 end
  end
  if group ~= "" then PIECES[#PIECES + 1] = group end
end

function M.create_chat()
  ngx.req.discard_body()
  ngx.status = 201
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.print('{"chatbotId":"5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f","createdAt":"'
    .. os.date("!%Y-%m-%dT%H:%M:%SZ", ngx.time()) .. '","id":"' .. uuid()
    .. '","organizationId":"08b969f1-4318-4cdd-a06e-c9d54760433f","userId":null}')
end

-- GET .../messages/events: the opening (retry, the current id), then each
-- queued frame at its due time, events due together in one write, until
-- the client goes away.
function M.stream(id)
  local c = chat(id)
  ngx.header["Content-Type"] = "text/event-stream"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.print("retry: 1000\nid: ", c.n, "\n\n")
  if not ngx.flush(true) then return end
  local aborted = false
  ngx.on_abort(function()
    aborted = true
    c.sem:post(1)
  end)
  while not aborted do
    c.sem:wait(60)
    local q = c.queue
    local i = 1
    while not aborted and i <= #q do
      -- Due times in whole milliseconds, as nginx's clock counts.
      local wait = q[i] - now_ms()
      if wait > 0 then ngx.sleep(wait / 1000) end
      while q[i] and q[i] <= now_ms() do
        ngx.print(q[i + 1])
        i = i + 2
      end
      if not ngx.flush(true) then return end
    end
    c.queue = {}
  end
end

-- POST .../messages: queues the reply's events for the chat's stream,
-- then answers once the last is due, as the emulator does.
function M.send(id)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body or not body:find('"message"', 1, true) then
    ngx.status = 400
    return ngx.print('{"statusCode":400,"message":"message must be a non-empty string","error":"Bad Request"}')
  end
  local c = chat(id)
  local answer_id, event_id = uuid(), uuid()
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ", ngx.time())
  local answer = '{"chatId":"' .. id .. '","content":"' .. CONTENT .. '","createdAt":"' .. now .. '","id":"'
    .. answer_id .. '","products":' .. PRODUCTS .. ',"suggestions":' .. SUGGESTIONS .. ',"type":"answer"}'
  local q, due = c.queue, now_ms()
  local function add(delay, event, data)
    due = due + delay
    c.n = c.n + 1
    q[#q + 1] = due
    q[#q + 1] = "id: " .. c.n .. "\n" .. (event and ("event: " .. event .. "\n") or "") .. "data: " .. data .. "\n\n"
  end
  local step = '{"chatId":"' .. id .. '","content":"%s","eventId":"' .. event_id .. '","status":"%s",'
    .. '"toolArgs":{"query":"' .. QUERY .. '"},"toolName":"product_search"%s}'
  add(0, "typing", '{"chatId":"' .. id .. '","typing":true}')
  add(DELAY, nil, step:format('Searching the catalog for \\"' .. QUERY .. '\\"', "inProgress", ""))
  add(DELAY, nil, step:format("Found 1 matching product(s)", "completed",
    ',"toolResponse":{"count":1,"gtins":["1234567890123"]}'))
  for i, piece in ipairs(PIECES) do
    add(DELAY, "chunk", '{"chatId":"' .. id .. '","content":"' .. piece .. '","index":' .. (i - 1)
      .. ',"messageId":"' .. answer_id .. '"}')
  end
  add(DELAY, "typing", '{"chatId":"' .. id .. '","typing":false}')
  add(0, "message", answer)
  c.sem:post(1)
  local wait = due - now_ms()
  if wait > 0 then ngx.sleep(wait / 1000) end
  ngx.status = 201
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.header["Content-Length"] = #answer
  ngx.print(answer)
end

return M

-- HTTP/1.1 on the client side, as pure functions over a byte source: URL
-- parsing, the request text, the response head, and the body framings
-- (Content-Length, chunked, read-to-close), read strictly after RFC 9112
-- (doc/transport.md "Framing"). No sockets here, so plain Lua specs can feed
-- it bytes in any split; homie.transport.h1 drives it over a socket.
-- Runs on Lua 5.1-5.4 and LuaJIT.
local M = {}

local MAX_LINE = 16384          -- a status line, a header line
local MAX_HEAD = 65536          -- all heads of one response (interim ones too), and its trailers
local MAX_FIELDS = 256          -- field lines in one head or one trailer section
local MAX_INTERIM = 16          -- 1xx heads before the final one
local MAX_SIZE_LINE = 4096      -- a chunk-size line with its extensions
local DEFAULT_PORT = { http = 80, https = 443 }

local byte, find, sub, lower = string.byte, string.find, string.sub, string.lower
local concat = table.concat

-- LuaJIT's table.new and table.clear (nginx's Lua), plain Lua elsewhere:
-- a table made at its final size is not grown piece by piece.
local new_table = (pcall(require, "table.new")) and require("table.new") or function() return {} end
local clear = (pcall(require, "table.clear")) and require("table.clear") or function(t)
  for k in pairs(t) do t[k] = nil end
end

-- A memo of what `fn` gives each string, dropped whole when it reaches
-- MEMO_MAX entries: a client sends to a handful of URLs and reads the same
-- dozen header names again and again.
local MEMO_MAX = 256
local function memo(fn)
  local cache, n = {}, 0
  return function(s)
    local v = cache[s]
    if v == nil then
      v = fn(s)
      if n >= MEMO_MAX then cache, n = {}, 0 end
      cache[s], n = v, n + 1
    end
    return v
  end
end

local function parse_url(url)
  local scheme, authority, rest = url:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  scheme = scheme and scheme:lower()
  if not scheme or not DEFAULT_PORT[scheme] then
    return nil, ("url must start with http:// or https://, got %q"):format(url:sub(1, 80))
  end
  if authority:find("@", 1, true) then return nil, "url must not carry credentials" end
  local host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, ("url has no host: %q"):format(url:sub(1, 80)) end
  port = port ~= "" and tonumber(port) or DEFAULT_PORT[scheme]
  if port < 1 or port > 65535 then return nil, "url port out of range" end
  if rest:find("[%s%c]") then return nil, "url contains spaces or control characters" end
  local target = rest:gsub("#.*$", "")
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  return { scheme = scheme, host = host, port = port, target = target, authority = authority }
end
local parse_memo = memo(function(url)
  local u, why = parse_url(url)
  return u or { why = why }
end)

-- Returns {scheme, host, port, target, authority}, or nil, why.
-- `host` is what to connect to (brackets dropped from an IPv6 literal),
-- `authority` what the Host header says. The table is shared by every call
-- with the same URL (memoised: a client asks the same few URLs): read it,
-- never change it.
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "url must be a string" end
  local u = parse_memo(url)
  if u.why then return nil, u.why end
  return u
end

local lower_name = memo(lower)

-- The bytes of one request. `headers`: lower-case name -> string; Host and
-- Content-Length are ours. Names are sorted so the text is reproducible.
-- Built in two scratch tables shared by every call (nothing in here can
-- yield, so no two calls overlap), emptied afterwards so they hold neither
-- the key nor a body; the sort is an insertion sort, as a request has a
-- handful of headers and LuaJIT compiles neither table.sort nor its calls
-- (a numeric `for`: LuaJIT counts a `while` hot on every entry, a `for`
-- only when it turns, and a hot inner loop aborts the traces around it).
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }
local out, names = {}, {}
function M.request_text(method, u, headers, body)
  local k = 0
  for name in pairs(headers) do
    local l = lower_name(name)
    if l ~= "host" and l ~= "content-length" then
      k = k + 1
      local j = k
      for m = k - 1, 1, -1 do
        if name > names[m] then break end
        names[m + 1] = names[m]
        j = m
      end
      names[j] = name
    end
  end
  out[1], out[2], out[3], out[4], out[5], out[6] =
    method, " ", u.target, " HTTP/1.1\r\nhost: ", headers.host or u.authority, "\r\n"
  local n = 6
  for i = 1, k do
    local name = names[i]
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = name, ": ", headers[name], "\r\n"
    n = n + 4
  end
  if body or BODY_METHODS[method] then
    n = n + 1
    out[n] = "content-length: " .. #(body or "") .. "\r\n"
  end
  n = n + 1
  out[n] = "\r\n"
  if body then
    n = n + 1
    out[n] = body
  end
  local text = concat(out, "", 1, n)
  clear(out)
  clear(names)
  return text
end

-- A buffer over `fill()`, which returns the next bytes or nil, err (err is
-- the source's: "timeout", "closed", ...). Bytes stay in the buffer until
-- consumed, so a timeout in the middle of a line loses nothing and the
-- next call resumes where this one stopped.
local Reader = {}
Reader.__index = Reader

-- `src`, when given, is handed to every fill(src): a caller can then give
-- one function for all its readers rather than a closure for each.
function M.reader(fill, src)
  return setmetatable({ fill = fill, src = src, buf = "", pos = 1 }, Reader)
end

function Reader:more()
  local data, err = self.fill(self.src)
  if not data then return nil, err end
  local buf, pos = self.buf, self.pos
  if pos > #buf then self.buf = data else self.buf = sub(buf, pos) .. data end
  self.pos = 1
  return true
end

-- Bytes received and not consumed yet: a connection holding any after its
-- answer is out of step with the server and is never pooled.
function Reader:pending()
  return #self.buf - self.pos + 1
end

-- Consumes the buffered line ending with the LF at i; the line, or nil,
-- err, "protocol" when it holds a CR that does not end it.
local function take(self, i)
  local buf, pos = self.buf, self.pos
  self.pos = i + 1
  if i > pos and byte(buf, i - 1) == 13 then i = i - 1 end
  local line = sub(buf, pos, i - 1)
  if find(line, "\r", 1, true) then return nil, "bare CR in " .. ("%q"):format(line:sub(1, 60)), "protocol" end
  return line
end

-- One line without its CRLF; nil, err, "protocol" when longer than limit or
-- when it holds a CR that does not end it. A bare LF ends a line too
-- (RFC 9112 section 2.2 lets a recipient accept it).
--
-- The usual cases take no loop: a whole line already buffered, or one
-- that a single fill completes (an answer's status line, read from an
-- empty buffer). LuaJIT counts a `while` or `repeat` hot each time it is
-- entered, so one entered on every answer becomes a trace of its own, and
-- every trace through its callers then aborts on it: in nginx the whole
-- head path ran interpreted. The first steps below are the loop's first
-- turn written out; the loop goes on from there, unchanged.
function Reader:line(limit)
  local i = find(self.buf, "\n", self.pos, true)
  if i and i - self.pos <= limit then return take(self, i) end
  if not i and #self.buf - self.pos + 1 <= limit then
    local ok, err = self:more()
    if not ok then return nil, err end
    i = find(self.buf, "\n", self.pos, true)
    if i and i - self.pos <= limit then return take(self, i) end
  end
  while true do
    i = find(self.buf, "\n", self.pos, true)
    if i and i - self.pos > limit then break end
    if i then return take(self, i) end
    if #self.buf - self.pos + 1 > limit then break end
    local ok, err = self:more()
    if not ok then return nil, err end
  end
  return nil, "line too long", "protocol"
end

-- At most max buffered bytes; fills once when the buffer is empty.
function Reader:some(max)
  if self.pos > #self.buf then
    local ok, err = self:more()
    if not ok then return nil, err end
  end
  local buf, pos = self.buf, self.pos
  local stop = pos + max - 1
  if stop > #buf then stop = #buf end
  self.pos = stop + 1
  return sub(buf, pos, stop)
end

local TOKEN = "^[!#$%%&'*+%-.^_`|~%w]+$"
local CTL = "[%z\1-\8\10-\31\127]"  -- control characters but HTAB

-- A field name lower-cased, or false when it is not a token (memoised).
local field_name = memo(function(name) return find(name, TOKEN) ~= nil and lower(name) end)

-- s[i..j] without leading and trailing SP and HTAB.
local function trim(s, i, j)
  while i <= j do
    local b = byte(s, i)
    if b ~= 32 and b ~= 9 then break end
    i = i + 1
  end
  while j >= i do
    local b = byte(s, j)
    if b ~= 32 and b ~= 9 then break end
    j = j - 1
  end
  return sub(s, i, j)
end

-- One field line as { lower-case name, value without OWS }, or false when
-- the name is not a token or the value holds a control character. A
-- plain find and trim: a pattern per line cost more than the rest of the
-- line's handling. Field lines repeat from answer to answer (only the
-- date changes), so short ones are memoised.
local MEMO_LINE = 256
local function parse_field(line)
  local colon = find(line, ":", 1, true)
  local name = colon and field_name(sub(line, 1, colon - 1))
  if not name then return false end
  local value = trim(line, colon + 1, #line)
  if find(value, CTL) then return false end
  return { name, value }
end
local field_memo = memo(parse_field)

local function malformed(what, line)
  return nil, ("malformed %s line %q"):format(what, line:sub(1, 80)), "protocol"
end

-- Field lines up to the blank line, into a new table (lower-case name ->
-- value, repeated names joined with ", "), and what is left of `left`, the
-- bytes every head of this response may still take; nil, err, kind. An
-- obs-fold (a line starting with SP or HTAB) continues the previous value,
-- joined with one SP as RFC 9112 section 5.2 asks of a user agent.
local FIELDS_SIZE = 16  -- room made at once for an answer's usual fields
local function read_fields(r, what, left)
  local fields, count, last = new_table(0, FIELDS_SIZE), 0, nil
  while true do
    local line, err, kind = r:line(MAX_LINE)
    if not line then return nil, err, kind end
    if line == "" then break end
    left = left - #line - 2
    if left < 0 then return nil, ("%s section larger than %d bytes"):format(what, MAX_HEAD), "protocol" end
    local first = byte(line, 1)
    if first == 32 or first == 9 then
      if not last then return malformed(what, line) end
      local more = trim(line, 1, #line)
      if find(more, CTL) then return malformed(what, line) end
      fields[last] = fields[last] .. " " .. more
    else
      local field = #line <= MEMO_LINE and field_memo(line) or parse_field(line)
      if not field then return malformed(what, line) end
      if count == MAX_FIELDS then return nil, ("more than %d %s lines"):format(MAX_FIELDS, what), "protocol" end
      count, last = count + 1, field[1]
      local old = fields[last]
      fields[last] = old and (old .. ", " .. field[2]) or field[2]
    end
  end
  return fields, left
end

-- {major, minor, status} from a status line; nil, err otherwise.
local function parse_status_line(line)
  local major, minor, rest = line:match("^HTTP/(%d+)%.(%d+)( .*)$")
  if not major then return nil, ("malformed status line %q"):format(line:sub(1, 80)) end
  if major ~= "1" or (minor ~= "0" and minor ~= "1") then
    return nil, ("unsupported HTTP version %s.%s in %q"):format(major:sub(1, 5), minor:sub(1, 5), line:sub(1, 80))
  end
  local status, reason = rest:match("^ ([1-9]%d%d)(.*)$")
  if not status or (reason ~= "" and reason:sub(1, 1) ~= " ") or reason:find(CTL) then
    return nil, ("malformed status line %q"):format(line:sub(1, 80))
  end
  return { major = 1, minor = tonumber(minor), status = tonumber(status) }
end
local status_line_memo = memo(function(line)
  local head, err = parse_status_line(line)
  if head then return { head.minor, head.status } end
  return { false, err }
end)
-- The same, memoised for the usual short lines ("HTTP/1.1 200 OK").
local function status_line(line)
  if #line <= MEMO_LINE then
    local v = status_line_memo(line)
    if v[1] then return { major = 1, minor = v[1], status = v[2] } end
    return nil, v[2]
  end
  return parse_status_line(line)
end

-- The final response head: {major, minor, status, headers}; up to
-- MAX_INTERIM 1xx answers before it are read and dropped. nil, err, kind on
-- failure ("protocol" for bytes that are not HTTP, or that we refuse: a
-- 101, another version than 1.0 or 1.1; otherwise err is the source's).
-- Empty lines before a status line are skipped (llhttp does too), but
-- count against the bound like any other. A `for` with a break, not a
-- `repeat`, for LuaJIT (Reader:line says why).
local function status_line_of(r, left)
  for _ = 0, MAX_HEAD do
    local line, err, kind = r:line(MAX_LINE)
    if not line then return nil, err, kind end
    left = left - #line - 2
    if left < 0 then return nil, ("response head larger than %d bytes"):format(MAX_HEAD), "protocol" end
    if line ~= "" then return line, left end
  end
  -- Not reached: each empty line takes 2 of the MAX_HEAD bytes.
  return nil, ("response head larger than %d bytes"):format(MAX_HEAD), "protocol"
end

function M.read_head(r)
  local left = MAX_HEAD
  for _ = 0, MAX_INTERIM do
    local line, rest, kind = status_line_of(r, left)
    if not line then return nil, rest, kind end
    local head, err = status_line(line)
    if not head then return nil, err, "protocol" end
    local fields
    fields, rest, kind = read_fields(r, "header", rest)
    if not fields then return nil, rest, kind end
    head.headers, left = fields, rest
    if head.status == 101 then
      return nil, "the server switched protocols (101), which homie never asks for", "protocol"
    end
    if head.status >= 200 then return head end
  end
  return nil, ("more than %d interim (1xx) responses"):format(MAX_INTERIM), "protocol"
end

-- The lower-cased tokens of a list value, as a set (memoised).
local token_set = memo(function(value)
  local set = {}
  for t in value:gmatch("[^,%s]+") do set[lower(t)] = true end
  return set
end)
local function has_token(value, token)
  return value ~= nil and token_set(value)[token] == true
end

-- A Content-Length value's one number (a list of equal ones allowed), or
-- false (memoised: the same sizes come back).
local content_length = memo(function(cl)
  local n
  for v in (cl .. ","):gmatch("([^,]*),") do
    local d = v:match("^[ \t]*(%d+)[ \t]*$")
    if not d or #d > 15 or (n and tonumber(d) ~= n) then return false end
    n = tonumber(d)
  end
  return n or false
end)

-- How the body of this answer ends (RFC 9112 section 6.3): "none",
-- "chunked", "length" (with its size) or "close", and true as the third
-- value when the framing is in doubt (Transfer-Encoding beside
-- Content-Length: read as chunked, never pooled). nil, err for framing we
-- cannot trust: a coding other than chunked (we ask for none), chunked
-- twice, Transfer-Encoding in HTTP/1.0, a Content-Length that is not one number.
function M.framing(method, head)
  local s, h = head.status, head.headers
  if method == "HEAD" or s == 204 or s == 304 or s < 200 then return "none" end
  local te, cl = h["transfer-encoding"], h["content-length"]
  if te then
    local codings = {}
    for item in te:gmatch("[^,]+") do
      local coding = item:match("^[ \t]*(.-)[ \t]*$")
      if coding ~= "" then codings[#codings + 1] = coding:lower() end
    end
    if head.minor == 0 then return nil, "transfer-encoding in an HTTP/1.0 response" end
    if #codings ~= 1 or codings[1] ~= "chunked" then
      return nil, ("transfer-encoding %q cannot be framed: homie reads chunked alone"):format(te:sub(1, 40))
    end
    return "chunked", nil, cl ~= nil
  end
  if cl then
    local n = content_length(cl)
    if not n then return nil, ("malformed content-length %q"):format(cl:sub(1, 40)) end
    return "length", n
  end
  return "close"
end

-- May the connection carry another request once this body is read?
-- doubtful: framing's third value.
function M.keepalive(head, framing, doubtful)
  if framing == "close" or doubtful then return false end
  local h = head.headers
  if has_token(h.connection, "close") or has_token(h["proxy-connection"], "close") then return false end
  if head.minor == 0 then return has_token(h.connection, "keep-alive") end
  return true
end

-- A body decoder over a reader. body:next(max) returns the next decoded
-- bytes (at most max), nil at the clean end, or nil, err, kind. It keeps its
-- state between calls, so a timeout can be retried. After the end,
-- body.trailers holds a chunked body's trailer fields.
local Body = {}
Body.__index = Body

function M.body(r, framing, length)
  return setmetatable({ r = r, mode = framing, left = length or 0,
                        state = framing == "chunked" and "size" or framing }, Body)
end

local function cut(err)
  if err == "closed" then return "connection closed before the end of the body" end
  return err
end

-- The end of the quoted-string starting at ext[pos] (a '"'), or nil.
local function quoted_end(ext, pos)
  local i = pos + 1
  while i <= #ext do
    local c = ext:sub(i, i)
    if c == '"' then return i end
    if c == "\\" then i = i + 1 elseif c:find(CTL) then return nil end
    i = i + 1
  end
  return nil
end

-- chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
-- Extensions carry nothing we use: checked, then dropped.
local function valid_extensions(ext)
  local pos = 1
  while pos <= #ext do
    local _, e = ext:find("^[ \t]*;[ \t]*[!#$%%&'*+%-.^_`|~%w]+", pos)
    if not e then return false end
    pos = e + 1
    local _, eq = ext:find("^[ \t]*=[ \t]*", pos)
    if eq then
      local _, v = ext:find("^[!#$%%&'*+%-.^_`|~%w]+", eq + 1)
      if not v and ext:sub(eq + 1, eq + 1) == '"' then v = quoted_end(ext, eq + 1) end
      if not v then return false end
      pos = v + 1
    end
  end
  return true
end

-- The size of the next chunk from its size line; nil, err.
local function chunk_size(line)
  local hex, ext = line:match("^(%x+)(.*)$")
  local digits = hex and hex:gsub("^0+(.)", "%1")
  if not hex or #digits > 12 or not valid_extensions(ext) then
    return nil, ("malformed chunk size line %q"):format(line:sub(1, 40))
  end
  return tonumber(digits, 16)
end

function Body:next_chunked(max)
  local r = self.r
  while true do
    local state = self.state
    if state == "data" then
      local data, err, kind = r:some(math.min(self.left, max))
      if not data then return nil, cut(err), kind end
      self.left = self.left - #data
      if self.left == 0 then self.state = "crlf" end
      return data
    end
    local line, err, kind
    if state == "trailers" then
      line, err, kind = read_fields(r, "trailer", MAX_HEAD)
      if not line then return nil, cut(err), kind end
      self.trailers, self.state = line, "done"
      return nil
    end
    -- After chunk data only its CRLF may come (a limit of 1 lets the CR in).
    line, err, kind = r:line(state == "crlf" and 1 or MAX_SIZE_LINE)
    if state == "crlf" and (line and line ~= "" or kind == "protocol") then
      return nil, "chunk data longer than its size", "protocol"
    end
    if not line then return nil, cut(err), kind end
    if state == "crlf" then
      self.state = "size"
    else
      self.left, err = chunk_size(line)
      if not self.left then return nil, err, "protocol" end
      self.state = self.left == 0 and "trailers" or "data"
    end
  end
end

function Body:next(max)
  local state = self.state
  if state == "done" or state == "none" then return nil end
  if state == "length" then
    if self.left == 0 then self.state = "done"; return nil end
    local data, err = self.r:some(math.min(self.left, max))
    if not data then return nil, cut(err) end
    self.left = self.left - #data
    if self.left == 0 then self.state = "done" end
    return data
  elseif state == "close" then
    local data, err = self.r:some(max)
    if not data and err == "closed" then self.state = "done"; return nil end
    return data, err
  end
  return self:next_chunked(max)
end

function Body:done() return self.state == "done" or self.state == "none" end

return M

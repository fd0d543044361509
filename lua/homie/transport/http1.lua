-- HTTP/1.1 on the client side, as pure functions over a byte source: URL
-- parsing, the request text, the response head, and the body framings
-- (Content-Length, chunked, read-to-close). No sockets here, so plain Lua
-- specs can feed it bytes in any split; the ngx transport gives it a
-- cosocket. Runs on Lua 5.1-5.4 and LuaJIT.
local M = {}

local MAX_LINE = 16384          -- a status line, a header line, a chunk-size line
local MAX_HEAD = 65536          -- all header lines of one response
local DEFAULT_PORT = { http = 80, https = 443 }

-- Returns {scheme, host, port, target, authority}, or nil, why.
-- `host` is what to connect to (brackets dropped from an IPv6 literal),
-- `authority` what the Host header says.
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "url must be a string" end
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

-- The bytes of one request. `headers`: lower-case name -> string; Host and
-- Content-Length are ours. Names are sorted so the text is reproducible.
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }
function M.request_text(method, u, headers, body)
  local out = { method, " ", u.target, " HTTP/1.1\r\nhost: ", headers.host or u.authority, "\r\n" }
  local names = {}
  for name in pairs(headers) do
    local lower = name:lower()
    if lower ~= "host" and lower ~= "content-length" then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    out[#out + 1] = name .. ": " .. headers[name] .. "\r\n"
  end
  if body or BODY_METHODS[method] then
    out[#out + 1] = "content-length: " .. #(body or "") .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body
  return table.concat(out)
end

-- A buffer over `fill()`, which returns the next bytes or nil, err (err is
-- the source's: "timeout", "closed", ...). Bytes stay in the buffer until
-- consumed, so a timeout in the middle of a line loses nothing and the
-- next call resumes where this one stopped.
local Reader = {}
Reader.__index = Reader

function M.reader(fill)
  return setmetatable({ fill = fill, buf = "", pos = 1 }, Reader)
end

function Reader:more()
  local data, err = self.fill()
  if not data then return nil, err end
  self.buf = self.buf:sub(self.pos) .. data
  self.pos = 1
  return true
end

-- One line without its CRLF (or bare LF); nil, err, "protocol" when longer than limit.
function Reader:line(limit)
  while true do
    local i = self.buf:find("\n", self.pos, true)
    if i and i - self.pos > limit then break end
    if i then
      local line = self.buf:sub(self.pos, i - 1)
      self.pos = i + 1
      if line:sub(-1) == "\r" then line = line:sub(1, -2) end
      return line
    end
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
  local stop = math.min(#self.buf, self.pos + max - 1)
  local s = self.buf:sub(self.pos, stop)
  self.pos = stop + 1
  return s
end

local function add_header(headers, line)
  local name, value = line:match("^([!#$%%&'*+%-.^_`|~%w]+):[ \t]*(.-)[ \t]*$")
  if not name then return nil end
  name = name:lower()
  local old = headers[name]
  headers[name] = old and (old .. ", " .. value) or value
  return true
end

-- Header lines up to the blank line, into a new table; nil, err, kind.
local function read_fields(r, what)
  local fields, total = {}, 0
  while true do
    local line, err, kind = r:line(MAX_LINE)
    if not line then return nil, err, kind end
    if line == "" then return fields end
    total = total + #line
    if total > MAX_HEAD then return nil, what .. " larger than " .. MAX_HEAD .. " bytes", "protocol" end
    if not add_header(fields, line) then
      return nil, ("malformed %s line %q"):format(what, line:sub(1, 80)), "protocol"
    end
  end
end

-- The final response head: {major, minor, status, headers}; 1xx answers
-- before it are read and dropped. nil, err, kind on failure ("protocol"
-- for bytes that are not HTTP; otherwise err is the source's).
function M.read_head(r)
  while true do
    local line, err, kind = r:line(MAX_LINE)
    if not line then return nil, err, kind end
    local major, minor, status = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
    if not major then
      return nil, ("malformed status line %q"):format(line:sub(1, 80)), "protocol"
    end
    local headers
    headers, err, kind = read_fields(r, "header")
    if not headers then return nil, err, kind end
    status = tonumber(status)
    if status >= 200 or status == 101 then
      return { major = tonumber(major), minor = tonumber(minor), status = status, headers = headers }
    end
  end
end

local function has_token(value, token)
  for t in (value or ""):gmatch("[^,%s]+") do
    if t:lower() == token then return true end
  end
  return false
end

-- How the body of this answer ends: "none", "chunked", "length" (with its
-- size) or "close"; nil, err for a Content-Length that is not one number.
function M.framing(method, head)
  local s, h = head.status, head.headers
  if method == "HEAD" or s == 204 or s == 304 or s < 200 then return "none" end
  if h["transfer-encoding"] then
    local codings = h["transfer-encoding"]:lower()
    if codings:match("chunked%s*$") then return "chunked" end
    return "close"
  end
  if h["content-length"] then
    local n
    for v in h["content-length"]:gmatch("[^,]+") do
      local d = v:match("^%s*(%d+)%s*$")
      if not d or #d > 15 or (n and tonumber(d) ~= n) then
        return nil, ("malformed content-length %q"):format(h["content-length"]:sub(1, 40))
      end
      n = tonumber(d)
    end
    return "length", n
  end
  return "close"
end

-- May the connection carry another request once this body is read?
function M.keepalive(head, framing)
  if framing == "close" then return false end
  local conn = head.headers.connection
  if has_token(conn, "close") then return false end
  if head.major == 1 and head.minor == 0 then return has_token(conn, "keep-alive") end
  return head.major == 1
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
      line, err, kind = read_fields(r, "trailer")
      if not line then return nil, cut(err), kind end
      self.trailers, self.state = line, "done"
      return nil
    end
    line, err, kind = r:line(MAX_LINE)
    if not line then return nil, cut(err), kind end
    if state == "crlf" then
      if line ~= "" then return nil, "chunk data longer than its size", "protocol" end
      self.state = "size"
    else
      -- size [; extension...]: extensions carry nothing we use.
      local hex, ext = line:match("^(%x+)[ \t]*(.*)$")
      if not hex or #hex > 12 or (ext ~= "" and ext:sub(1, 1) ~= ";") then
        return nil, ("malformed chunk size line %q"):format(line:sub(1, 40)), "protocol"
      end
      self.left = tonumber(hex, 16)
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

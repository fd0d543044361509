-- The mutants of `make mutate` (scripts/mutate.lua). Each breaks one
-- documented behaviour (README.md, server/README.md, doc/transport.md) by
-- replacing `from`, which must occur exactly once in `file`, with `to`;
-- `specs` are the checks that must then fail (spec files, or "make:TARGET").
-- Optional: `equivalent = "why no test can tell"`, `hang_ok = "why it can
-- only hang"`, `filter` (busted --filter), `spec_limit` (seconds per test).
-- Keep this list current when code moves: a stale entry fails the run.
local M = {}
local function mutant(t) M[#M + 1] = t end

-- lua/homie/errors.lua ------------------------------------------------------
mutant{ id = "errors-408-kind", file = "lua/homie/errors.lua",
  from = [[[404] = "not_found", [408] = "timeout",]], to = [[[404] = "not_found", [408] = "invalid_request",]],
  why = "HTTP 408 is a timeout", specs = { "spec/errors_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "errors-401-kind", file = "lua/homie/errors.lua",
  from = [[[401] = "authentication"]], to = [[[401] = "permission"]],
  why = "401 is an authentication error", specs = { "spec/util_spec.lua" } }
mutant{ id = "errors-5xx-kind", file = "lua/homie/errors.lua",
  from = [[if status >= 500 and status <= 599 then return "server" end]],
  to = [[if status >= 500 and status <= 599 then return "invalid_request" end]],
  why = "5xx is a server error", specs = { "spec/errors_spec.lua" } }
mutant{ id = "errors-message-unredacted", file = "lua/homie/errors.lua",
  from = [[fields.message = redact(tostring(fields.message or fields.kind), secret)]],
  to = [[fields.message = tostring(fields.message or fields.kind)]],
  why = "the key never appears in an error message", specs = { "spec/util_spec.lua" } }
mutant{ id = "errors-body-unredacted", file = "lua/homie/errors.lua",
  from = [[fields.body = redact(fields.body, secret)]], to = [[fields.body = fields.body]],
  why = "the key never appears in an error body", specs = { "spec/util_spec.lua" } }
mutant{ id = "errors-no-request-id", file = "lua/homie/errors.lua",
  from = [[if self.request_id then s = s]], to = [[if false then s = s]],
  why = "tostring(err) shows the request id", specs = { "spec/errors_spec.lua" } }
mutant{ id = "errors-no-attempts", file = "lua/homie/errors.lua",
  from = [[if self.attempts and self.attempts > 1 then]], to = [[if false then]],
  why = "tostring(err) says after N attempts", specs = { "spec/errors_spec.lua" } }
mutant{ id = "errors-nested-message", file = "lua/homie/errors.lua",
  from = [[msg = table.concat(parts, "; ")]], to = [[msg = parts[1] ]],
  why = "a NestJS message array is joined", specs = { "spec/util_spec.lua" } }
mutant{ id = "errors-retryable-nil", file = "lua/homie/errors.lua",
  from = [[fields.retryable = fields.retryable or false]], to = [[fields.retryable = fields.retryable]],
  why = "err.retryable is always a boolean", specs = { "spec/errors_spec.lua" } }
mutant{ id = "errors-is-error-any", file = "lua/homie/errors.lua",
  from = [[function M.is_error(v) return getmetatable(v) == Error end]],
  to = [[function M.is_error(v) return type(v) == "table" end]],
  why = "homie.is_error is true only for homie errors", specs = { "spec/errors_spec.lua" } }

-- lua/homie/retry.lua -------------------------------------------------------
mutant{ id = "retry-base", file = "lua/homie/retry.lua",
  from = [[M.BASE, M.CAP, M.SERVER_CAP = 0.5, 8, 60]], to = [[M.BASE, M.CAP, M.SERVER_CAP = 1, 8, 60]],
  why = "retries wait 0.5 s first", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-no-doubling", file = "lua/homie/retry.lua",
  from = [[M.BASE * 2 ^ (attempt - 1)]], to = [[M.BASE * 1 ^ (attempt - 1)]],
  why = "retry waits double", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-no-cap", file = "lua/homie/retry.lua",
  from = [[M.jitter(math.min(M.BASE * 2 ^ (attempt - 1), M.CAP), random)]], to = [[M.jitter(M.BASE * 2 ^ (attempt - 1), random)]],
  why = "retry waits stop growing at 8 s", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-jitter-longer", file = "lua/homie/retry.lua",
  from = [[return w * (1 - 0.25 * (random or math.random)())]], to = [[return w * (1 + 0.25 * (random or math.random)())]],
  why = "jitter only shortens a wait", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-server-cap", file = "lua/homie/retry.lua",
  from = [[if wait then return math.min(wait, M.SERVER_CAP) end]], to = [[if wait then return wait end]],
  why = "a server's wait is capped at 60 s", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-after-ms-ignored", file = "lua/homie/retry.lua",
  from = [[if ms and ms >= 0 then wait = ms / 1000 end]], to = [[if false then wait = ms / 1000 end]],
  why = "retry-after-ms sets the wait", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-after-date-ignored", file = "lua/homie/retry.lua",
  from = [[or seconds_until(ra, now)]], to = [[or nil]],
  why = "Retry-After as an HTTP date sets the wait", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-408-not-retried", file = "lua/homie/retry.lua",
  from = [[local RETRY_STATUS = { [408] = true,]], to = [[local RETRY_STATUS = { [408] = false,]],
  why = "408 is retried", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-send-after-500", file = "lua/homie/retry.lua",
  from = [[if not idempotent and not NOT_PROCESSED[status] then return nil end]],
  to = [[if false then return nil end]],
  why = "a message send is not retried once the server may have acted", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-503-acted", file = "lua/homie/retry.lua",
  from = [[local NOT_PROCESSED = { [429] = true, [503] = true }]], to = [[local NOT_PROCESSED = { [429] = true }]],
  why = "a send answered 503 is retried", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-maybe-acted-4xx", file = "lua/homie/retry.lua",
  from = [[return status >= 500 or (status >= 200 and status <= 299)]], to = [[return true]],
  why = "err.maybe_stored is false for a refused (4xx) send", specs = { "spec/contract_spec.lua" } }
mutant{ id = "retry-server-wait-ignored", file = "lua/homie/retry.lua",
  from = [[return M.server_wait(resp.headers) or M.backoff(attempt)]], to = [[return M.backoff(attempt)]],
  why = "Retry-After sets the wait of a call", specs = { "spec/retry_spec.lua" } }
mutant{ id = "retry-sent-send", file = "lua/homie/retry.lua",
  from = [[if not idempotent and M.maybe_acted(nil, fail) then return nil end]], to = [[if false then return nil end]],
  why = "a send that may have reached the server is not retried", specs = { "spec/retry_spec.lua" } }

-- lua/homie/util.lua --------------------------------------------------------
mutant{ id = "util-unknown-option", file = "lua/homie/util.lua",
  from = [[if not allowed[k] then]], to = [[if false then]],
  why = "an unknown option raises", specs = { "spec/client_spec.lua" } }
mutant{ id = "util-id-shape", file = "lua/homie/util.lua",
  from = [[if not v:match(ID) then]], to = [[if not v:match("^%S+$") then]],
  why = "an id must be 8-4-4-4-12 hex", specs = { "spec/util_spec.lua" } }
mutant{ id = "util-utf8-surrogate", file = "lua/homie/util.lua",
  from = [[(cp >= 0xD800 and cp <= 0xDFFF)]], to = [[false]],
  why = "text must be valid UTF-8 (no surrogates)", specs = { "spec/util_spec.lua" } }
mutant{ id = "util-utf8-overlong", file = "lua/homie/util.lua",
  from = [[if cp < min or cp > 0x10FFFF]], to = [[if cp > 0x10FFFF]],
  why = "text must be valid UTF-8 (no overlongs)", specs = { "spec/util_spec.lua" } }
mutant{ id = "util-header-cr", file = "lua/homie/util.lua",
  from = [[if v:find("[\r\n]")]], to = [[if v:find("[\n]")]],
  why = "CR in a header value raises", specs = { "spec/util_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "util-header-nul", file = "lua/homie/util.lua",
  from = [[ or v:find("\0", 1, true) then]], to = [[ then]],
  why = "NUL in a header value raises", specs = { "spec/util_spec.lua" } }
mutant{ id = "util-urlencode-space", file = "lua/homie/util.lua",
  from = [[[^%w%-%._~]], to = [[[^%w%-%._~ ]],
  why = "query values are percent-encoded", specs = { "spec/util_spec.lua", "spec/wire_spec.lua" } }
mutant{ id = "util-null-kept", file = "lua/homie/util.lua",
  from = [[if x == null then]], to = [[if false then]],
  why = "JSON null reads as nil", specs = { "spec/util_spec.lua" } }
mutant{ id = "util-no-integers", file = "lua/homie/util.lua",
  from = [[if i and i > -2 ^ 53 and i < 2 ^ 53 then v[k] = i end]], to = [[local _ = i]],
  why = "whole numbers are integers", specs = { "spec/util_spec.lua" } }

-- csrc/sse.c: the parser ----------------------------------------------------
mutant{ id = "sse-bom", file = "csrc/sse.c",
  from = [[  if (p->bom < 3) {
    if ((rc = skip_bom(p)) != 0) return rc;]], to = [[  if (0) {
    if ((rc = skip_bom(p)) != 0) return rc;]],
  why = "a leading BOM is skipped", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-cr-line-end", file = "csrc/sse.c",
  from = [[eol = p->nlf < p->ncr ? p->nlf : p->ncr;]], to = [[eol = p->nlf;]],
  why = "CR ends a line", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-space-after-colon", file = "csrc/sse.c",
  from = [[if (vn && *v == ' ') { v++; vn--; }]], to = [[(void)0;]],
  why = "one space after the colon is dropped", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-retry-digits", file = "csrc/sse.c",
  from = [[if (v[i] < '0' || v[i] > '9') return;]], to = [[if (v[i] < '0' && v[i] > '9') return;]],
  why = "retry is honoured only when all digits", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-id-nul", file = "csrc/sse.c",
  from = [[if (s[0] != 'i' || s[1] != 'd' || memchr(v, 0, vn)) break;]], to = [[if (s[0] != 'i' || s[1] != 'd') break;]],
  why = "an id with NUL is ignored", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-data-join", file = "csrc/sse.c",
  from = [[if ((p->ndata && !buf_append(p, &p->data, "\n", 1)) || ]], to = [[if (]],
  why = "data lines are joined with LF", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-empty-dispatch", file = "csrc/sse.c",
  from = [[if (p->ndata == 0) { clear_event(p); return 0; }]], to = [[(void)0;]],
  why = "a block without data dispatches nothing", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-default-type", file = "csrc/sse.c",
  from = [[else { ev->type = "message"; ev->type_len = 7; }]], to = [[else { ev->type = "msg"; ev->type_len = 3; }]],
  why = "an event without event: is a message", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-max-event", file = "csrc/sse.c",
  from = [[  if (n > p->max_event - p->dlen - p->tlen) return drop_event(p, SSE_ERR_TOO_LARGE, 0);
]], to = "",
  why = "max_event_bytes bounds one event (the issue's hang)", specs = { "spec/sse_spec.lua", "spec/stream_spec.lua" } }
mutant{ id = "sse-split-crlf", file = "csrc/sse.c",
  from = [[if (p->in == end) p->skip_lf = 1;]], to = [[if (p->in == end) p->skip_lf = 0;]],
  why = "CR and LF split across chunks are one line end", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-finish-keeps-event", file = "csrc/sse.c",
  from = [[  sse_input(p, NULL, 0);
  clear_event(p);]], to = [[  sse_input(p, NULL, 0);]],
  why = "finish drops an unterminated event", specs = { "spec/sse_spec.lua" } }
mutant{ id = "sse-reset-keeps-id", file = "csrc/sse.c",
  from = [[p->id_last.len = p->id_next.len = 0;]], to = [[(void)0;]],
  why = "reset forgets the last id", specs = { "spec/sse_spec.lua" } }

-- csrc/lsse.c: the parser's binding -----------------------------------------
mutant{ id = "lsse-feed-hides-error", file = "csrc/lsse.c",
  from = [[  if (!c.err) return 1;
  lua_pushnil(L);]], to = [[  return 1;
  lua_pushnil(L);]],
  why = "feed reports an oversize event", specs = { "spec/sse_spec.lua" } }
mutant{ id = "lsse-closed-usable", file = "csrc/lsse.c",
  from = [[  if (!u->open) luaL_error(L, "homie: attempt to use a closed sse parser");]], to = "",
  why = "a closed parser raises", specs = { "spec/sse_spec.lua" } }
mutant{ id = "lsse-unknown-option", file = "csrc/lsse.c",
  from = [[homie_check_options(L, 1, "sse.parser", OPTIONS);]], to = [[(void)OPTIONS;]],
  why = "an unknown parser option raises", specs = { "spec/sse_spec.lua" } }
mutant{ id = "lsse-reentry", file = "csrc/lsse.c",
  from = [[  if (u->busy) luaL_error(L, "homie: an sse parser cannot be used from inside its own each() callback");]], to = "",
  why = "the parser refuses re-entry from its callback", specs = { "spec/sse_spec.lua" } }
mutant{ id = "lsse-retry-unset", file = "csrc/lsse.c",
  from = [[if (r < 0) lua_pushnil(L); else homie_pushint53(L, r);]], to = [[homie_pushint53(L, r < 0 ? 0 : r);]],
  why = "retry() is nil until the stream sends one", specs = { "spec/sse_spec.lua" } }
mutant{ id = "lsse-rest-lost", file = "csrc/lsse.c",
  from = [[else stash_keep(u, rest, rn, NULL, 0);]], to = [[else stash_drop(u);]],
  why = "a raising callback loses no event", specs = { "spec/sse_spec.lua" } }

-- The Lua layer above the transport (after the transport seam).
-- lua/homie/client.lua
mutant{ id = "client-timeout-x10", file = "lua/homie/client.lua",
  from = [[local timeout = o.timeout or self.timeout]], to = [[local timeout = (o.timeout or self.timeout) * 10]],
  why = "timeout bounds one attempt", specs = { "spec/contract_spec.lua" } }
mutant{ id = "client-deadline-x10", file = "lua/homie/client.lua",
  from = [[local deadline_at = span and (t:now() + span) or nil]], to = [[local deadline_at = span and (t:now() + span * 10) or nil]],
  why = "deadline bounds a call with its retries", specs = { "spec/contract_spec.lua" } }
mutant{ id = "client-key-crlf", file = "lua/homie/client.lua",
  from = [[  util.check_header_value("api_key", key, 2)
]], to = "",
  why = "CR/LF in api_key raises", specs = { "spec/contract_spec.lua" } }
mutant{ id = "client-bearer-ignored", file = "lua/homie/client.lua",
  from = [==[  if auth == "bearer" then
    base_headers["Authorization"]==], to = [==[  if false then
    base_headers["Authorization"]==],
  why = "auth = \"bearer\" sends Authorization: Bearer", specs = { "spec/wire_spec.lua" } }
mutant{ id = "client-log-unredacted", file = "lua/homie/client.lua",
  from = [[self.logger(errors.redact(fmt:format(...), self._secret()))]], to = [[self.logger(fmt:format(...))]],
  why = "log lines never show the key", specs = { "spec/unit/client_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "client-insecure-ignored", file = "lua/homie/client.lua",
  from = [[insecure = optional("insecure", opts.insecure, "boolean") or false,]], to = [[insecure = false,]],
  why = "insecure = true turns verification off", specs = { "spec/reliability_spec.lua" } }
mutant{ id = "client-max-body-ignored", file = "lua/homie/client.lua",
  from = [[max_body = positive("max_body", opts.max_body, 8 * 1024 * 1024),]], to = [[max_body = 8 * 1024 * 1024,]],
  why = "max_body bounds an answer", specs = { "spec/reliability_spec.lua" } }
mutant{ id = "curl-send-reused-connection", file = "lua/homie/transport/curl.lua",
  from = [[fresh_connect = req.idempotent == false,]], to = [[fresh_connect = false,]],
  why = "a send or chat creation takes a fresh connection, so libcurl never re-sends it",
  specs = { "spec/reliability_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "client-no-attempts", file = "lua/homie/client.lua",
  from = [[    err.attempts = attempt
]], to = "",
  why = "err.attempts counts the attempts", specs = { "spec/reliability_spec.lua" } }
mutant{ id = "client-ua-suffix", file = "lua/homie/client.lua",
  from = [[if opts.user_agent ~= nil then ua = ua .. " " .. opts.user_agent end]], to = [[local _ = ua]],
  why = "user_agent is appended to the User-Agent", specs = { "spec/wire_spec.lua" } }
mutant{ id = "client-extra-retry", file = "lua/homie/client.lua",
  from = [[local give_up = not wait or attempt > max_retries]], to = [[local give_up = not wait or attempt > max_retries + 1]],
  why = "max_retries bounds the retries", specs = { "spec/reliability_spec.lua" } }
-- lua/homie/chat.lua
mutant{ id = "retry-tls-retried", file = "lua/homie/retry.lua",
  from = [[if fail.retryable == false then return nil end]], to = [[local _ = fail]],
  why = "a bad certificate is not retried", specs = { "spec/retry_spec.lua" } }
mutant{ id = "client-create-idempotent", file = "lua/homie/client.lua",
  from = [[body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = false }))]],
  to = [[body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = true }))]],
  why = "create_chat follows the send rule", specs = { "spec/contract_spec.lua" } }
mutant{ id = "message-uri-url", file = "lua/homie/message.lua",
  from = [[if type(p) == "table" and p.url == nil and p.uri ~= nil then p.url = p.uri end]], to = [[local _ = p]],
  why = "a product with only uri also gets url", specs = { "spec/contract_spec.lua" } }
mutant{ id = "client-messages-silent", file = "lua/homie/client.lua",
  from = [[        over = true
        return false, err]], to = [[        over = true
        return nil]],
  why = "messages() yields false, err on failure", specs = { "spec/contract_spec.lua" } }
mutant{ id = "client-store-dropped", file = "lua/homie/client.lua",
  from = [[query = util.query({ { "store", opts.store } }),]], to = [[query = "",]],
  why = "store goes in the query", specs = { "spec/wire_spec.lua" } }
mutant{ id = "client-pages-stuck", file = "lua/homie/client.lua",
  from = [[page = (p.nextPage and p.nextPage > page) and p.nextPage or page + 1]], to = [[page = page]],
  why = "messages() walks every page", specs = { "spec/client_spec.lua" } }
-- lua/homie/stream.lua
mutant{ id = "stream-retry-ignored", file = "lua/homie/stream.lua",
  from = [[local base = (self.retry_ms or 1000) / 1000]], to = [[local base = 1000 / 1000]],
  why = "a stream waits the server's retry:", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-no-doubling", file = "lua/homie/stream.lua",
  from = [[base * 2 ^ self.failures]], to = [[base * 1 ^ self.failures]],
  why = "stream waits double per consecutive failure", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-failures-kept", file = "lua/homie/stream.lua",
  from = [[      self.failures = 0
      return ev]], to = [[      return ev]],
  why = "a delivered event resets the failure count", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-retry-after-ignored", file = "lua/homie/stream.lua",
  from = [[return "retry", retry.server_wait(h) or self:backoff(), err]], to = [[return "retry", self:backoff(), err]],
  why = "a stream honours Retry-After on 429/5xx", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-retries-401", file = "lua/homie/stream.lua",
  from = [[if retry.status_retryable(status) then]], to = [[if true then]],
  why = "401/403/404 are not retried", specs = { "spec/reconnect_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "stream-retries-204", file = "lua/homie/stream.lua",
  from = [[if status == 204 then return "end" end]], to = [[if status == 204 then return "retry", self:backoff() end]],
  why = "a 204 ends the stream (the issue's hang)", specs = { "spec/reconnect_spec.lua", "spec/contract_spec.lua" } }
mutant{ id = "stream-fallback-forgotten", file = "lua/homie/stream.lua",
  from = [[if self.trying_intro then client._events_intro = true end]], to = [[local _ = client]],
  why = "the 404 fallback path is remembered per client", specs = { "spec/contract_spec.lua" } }
mutant{ id = "stream-close-noop", file = "lua/homie/stream.lua",
  from = [[Stream.__close = Stream.close]], to = [[Stream.__close = function() end]],
  why = "<close> closes a stream", specs = { "spec/contract_spec.lua" } }
mutant{ id = "stream-max-event-ignored", file = "lua/homie/stream.lua",
  from = [[sse.parser({ max_event_bytes = self.max_event_bytes })]], to = [[sse.parser()]],
  why = "max_event_bytes bounds a stream's event (the issue's hang)", specs = { "spec/stream_spec.lua" } }
mutant{ id = "stream-no-last-event-id", file = "lua/homie/stream.lua",
  from = [==[if self.last_id and self.last_id ~= "" then more["Last-Event-ID"] = self.last_id end]==], to = [[local _ = more]],
  why = "a reconnect sends Last-Event-ID", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-idle-x10", file = "lua/homie/stream.lua",
  from = [[local idle_at = t:now() + self.idle_timeout]], to = [[local idle_at = t:now() + self.idle_timeout * 10]],
  why = "idle_timeout bounds silence", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-connect-x10", file = "lua/homie/stream.lua",
  from = [[status, h = conn:head(t:now() + self.connect_timeout)]], to = [[status, h = conn:head(t:now() + self.connect_timeout * 10)]],
  why = "connect_timeout bounds a stream's head", specs = { "spec/reconnect_spec.lua" } }
mutant{ id = "stream-tls-retried", file = "lua/homie/stream.lua",
  from = [[if h.retryable == false then return "fatal", err end]], to = [[local _ = h]],
  why = "a bad certificate ends a stream at once", specs = { "spec/reliability_spec.lua" } }
mutant{ id = "stream-any-content-type", file = "lua/homie/stream.lua",
  from = [[if not ctype:find("text/event-stream", 1, true) then]], to = [[if false then]],
  why = "a wrong content type is a protocol error", specs = { "spec/stream_spec.lua" } }
mutant{ id = "stream-max-reconnects", file = "lua/homie/stream.lua",
  from = [[if self.failures > self.max_reconnects then]], to = [[if self.failures > self.max_reconnects + 100 then]],
  why = "max_reconnects bounds consecutive reconnects", specs = { "spec/stream_spec.lua" } }
-- lua/homie/ask.lua
mutant{ id = "ask-leaks-stream", file = "lua/homie/ask.lua",
  from = [[  stream:close()
  if not ok then error(raised, 0) end]], to = [[  if not ok then error(raised, 0) end
  stream:close()]],
  why = "ask closes its stream when on_event raises", specs = { "spec/contract_spec.lua" } }
mutant{ id = "ask-no-events", file = "lua/homie/ask.lua",
  from = [[if on_event then on_event(ev) end]], to = [[local _ = on_event]],
  why = "ask calls on_event per event", specs = { "spec/stream_spec.lua" } }
-- lua/homie/transport/curl.lua
mutant{ id = "curl-always-sent", file = "lua/homie/transport/curl.lua",
  from = [[    sent = r:info().request_bytes > 0,
    retryable]], to = [[    sent = true,
    retryable]],
  why = "a refused send is retried (it provably never arrived)", specs = { "spec/client_spec.lua" } }

-- The API as issue 12 part 5 fixed it (the transport seam).
mutant{ id = "stream-timeout-absolute", file = "lua/homie/stream.lua",
  from = [[  return self.transport:now() + timeout  -- math.huge: no limit]],
  to = [[  return timeout  -- math.huge: no limit]],
  why = "next_event(timeout) takes seconds", specs = { "spec/api_contract_spec.lua" } }
mutant{ id = "stream-error-no-attempts", file = "lua/homie/stream.lua",
  from = [[  fields.attempts = fields.attempts or self.failures + 1
]], to = "",
  why = "stream errors carry attempts", specs = { "spec/api_contract_spec.lua" } }
mutant{ id = "stream-oversize-continues", file = "lua/homie/stream.lua",
  from = [[local list, n = evs or others or {}, evs and #evs or before]],
  to = [[local list = evs or others or {}
  local n = #list]],
  why = "an oversize event ends the stream at its place", specs = { "spec/api_contract_spec.lua" } }
mutant{ id = "client-insecure-untyped", file = "lua/homie/client.lua",
  from = [[insecure = optional("insecure", opts.insecure, "boolean") or false,]], to = [[insecure = opts.insecure == true,]],
  why = "insecure = \"yes\" raises like every mistyped option", specs = { "spec/api_contract_spec.lua" } }
mutant{ id = "ask-final-wait-untyped", file = "lua/homie/ask.lua",
  from = [[  if opts.final_wait ~= nil then util.check_span("final_wait", opts.final_wait, 3) end
]], to = "",
  why = "ask's final_wait is type-checked", specs = { "spec/api_contract_spec.lua" } }


-- == storefront ==
-- The storefront (examples/openresty, README "OpenResty / nginx": the demo
-- make openresty-demo runs) and the reference's checks (make docs).
mutant{ id = "storefront-stock-one-underscore", file = "examples/openresty/public/shop.js",
  from = [[const words = availability.status.split("_").join(" ").trim();]],
  to = [[const words = availability.status.replace("_", " ").trim();]],
  why = "a card's stock reads Out of stock (every underscore)", specs = { "make:test-browser" } }
mutant{ id = "storefront-price-unformatted", file = "examples/openresty/public/shop.js",
  from = [[return formats.get(currency).format(value);]], to = [[return value + " " + currency;]],
  why = "prices are formatted for their currency and the page's locale", specs = { "make:test-browser" } }
mutant{ id = "storefront-no-autoscroll", file = "examples/openresty/public/shop.js",
  from = [[function scrollDown(force) { if (force || nearBottom()) log.scrollTop = log.scrollHeight; }]],
  to = [[function scrollDown(force) { }]],
  why = "the conversation scrolls to each new answer", specs = { "make:test-browser" } }
mutant{ id = "storefront-remote-images", file = "examples/openresty/shop.lua",
  from = [[max_seconds = 300, filter = local_images }]], to = [[max_seconds = 300 }]],
  why = "the page loads nothing from outside the shop (its own product pictures)", specs = { "make:test-browser" } }
mutant{ id = "storefront-error-silent", file = "examples/openresty/public/shop.js",
  from = [[    problem.hidden = next !== "failed";
]], to = "",
  why = "a failed /shop/chat shows an error and a retry button", specs = { "make:test-browser" } }
mutant{ id = "demo-taken-port-used", file = "scripts/openresty-demo",
  from = [[  if why=$(taken "$p"); then]], to = [[  if false; then]],
  why = "openresty-demo refuses a port another program listens on, naming it", specs = { "spec/openresty_demo_spec.lua" } }
mutant{ id = "check-docs-coverage-off", file = "scripts/check-docs",
  from = [[        elseif not have[item] then]], to = [[        elseif false then]],
  why = "make docs fails on an undocumented public function", specs = { "spec/check_docs_spec.lua" } }
mutant{ id = "check-docs-no-type-anchor", file = "scripts/check-docs",
  from = [[  if fixed ~= s then write(path, fixed) end]], to = [[  fixed = s]],
  why = "links to a type lead to its section", specs = { "spec/check_docs_spec.lua" } }
mutant{ id = "check-docs-anchors-unchecked", file = "scripts/check-docs",
  from = [[      elseif frag ~= "" and not (have and have[frag]) then]], to = [[      elseif false then]],
  why = "make docs fails on a link to an anchor that does not exist", specs = { "spec/check_docs_spec.lua" } }
return M

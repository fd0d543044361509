-- The mutants of `make mutate` (scripts/mutate.lua). Each breaks one
-- documented behaviour (README.md, server/README.md, doc/transport.md) by
-- replacing `from`, which must occur exactly once in `file`, with `to`;
-- `specs` are the checks that must then fail (spec files, or "make:TARGET").
-- Optional: `equivalent = "why no test can tell"`, `hang_ok = "why it can
-- only hang"`, `filter` (busted --filter), `spec_limit` (seconds per test).
-- Keep this list current when code moves: a stale entry fails the run.
local M = {}
local function mutant(t) M[#M + 1] = t end

-- Every file under these roots (Lua patterns on the path from the
-- repository root) needs at least one mutant: MUTATE_CHECK=1 (make test)
-- fails on a module nobody mutates, so a new module comes with its mutants.
M.roots = {
  "^lua/homie/.+%.lua$",            -- the SDK, its transports and the CLI's modules
  "^csrc/[^/]+%.c$",                -- the C core
  "^server/lua/.+%.lua$",           -- the emulator
  "^bin/[^/]+$",                    -- bin/homie, bin/homie-mock
}
-- Files under the roots that need no mutant: pure glue with no behaviour
-- of its own to break, each with the reason. path = "why".
M.exempt = {
}

-- lua/homie/errors.lua ------------------------------------------------------
mutant{ id = "errors-408-kind", file = "lua/homie/errors.lua",
  from = [[[404] = "not_found", [408] = "timeout",]], to = [[[404] = "not_found", [408] = "invalid_request",]],
  why = "HTTP 408 is a timeout", specs = { "spec/unit/errors_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "errors-401-kind", file = "lua/homie/errors.lua",
  from = [[[401] = "authentication"]], to = [[[401] = "permission"]],
  why = "401 is an authentication error", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "errors-5xx-kind", file = "lua/homie/errors.lua",
  from = [[if status >= 500 and status <= 599 then return "server" end]],
  to = [[if status >= 500 and status <= 599 then return "invalid_request" end]],
  why = "5xx is a server error", specs = { "spec/unit/errors_spec.lua" } }
mutant{ id = "errors-message-unredacted", file = "lua/homie/errors.lua",
  from = [[fields.message = redact(tostring(fields.message or fields.kind), secret)]],
  to = [[fields.message = tostring(fields.message or fields.kind)]],
  why = "the key never appears in an error message", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "errors-body-unredacted", file = "lua/homie/errors.lua",
  from = [[fields.body = redact(fields.body, secret)]], to = [[fields.body = fields.body]],
  why = "the key never appears in an error body", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "errors-no-request-id", file = "lua/homie/errors.lua",
  from = [[if self.request_id then s = s]], to = [[if false then s = s]],
  why = "tostring(err) shows the request id", specs = { "spec/unit/errors_spec.lua" } }
mutant{ id = "errors-no-attempts", file = "lua/homie/errors.lua",
  from = [[if self.attempts and self.attempts > 1 then]], to = [[if false then]],
  why = "tostring(err) says after N attempts", specs = { "spec/unit/errors_spec.lua" } }
mutant{ id = "errors-nested-message", file = "lua/homie/errors.lua",
  from = [[msg = table.concat(parts, "; ")]], to = [[msg = parts[1] ]],
  why = "a NestJS message array is joined", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "errors-retryable-nil", file = "lua/homie/errors.lua",
  from = [[fields.retryable = fields.retryable or false]], to = [[fields.retryable = fields.retryable]],
  why = "err.retryable is always a boolean", specs = { "spec/unit/errors_spec.lua" } }
mutant{ id = "errors-is-error-any", file = "lua/homie/errors.lua",
  from = [[function M.is_error(v) return getmetatable(v) == Error end]],
  to = [[function M.is_error(v) return type(v) == "table" end]],
  why = "homie.is_error is true only for homie errors", specs = { "spec/unit/errors_spec.lua" } }

-- lua/homie/retry.lua -------------------------------------------------------
mutant{ id = "retry-base", file = "lua/homie/policy.lua",
  from = [[M.DEFAULTS = { base = 0.5,]], to = [[M.DEFAULTS = { base = 1,]],
  why = "retries wait 0.5 s first", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-no-doubling", file = "lua/homie/policy.lua",
  from = [[self.base * 2 ^ (attempt - 1)]], to = [[self.base * 1 ^ (attempt - 1)]],
  why = "retry waits double", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-no-cap", file = "lua/homie/policy.lua",
  from = [[return self:jitter(math.min(self.base * 2 ^ (attempt - 1), self.cap))]], to = [[return self:jitter(self.base * 2 ^ (attempt - 1))]],
  why = "retry waits stop growing at 8 s", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-jitter-longer", file = "lua/homie/policy.lua",
  from = [[return w * (1 - 0.25 * self.random())]], to = [[return w * (1 + 0.25 * self.random())]],
  why = "jitter only shortens a wait", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-server-cap", file = "lua/homie/policy.lua",
  from = [[if wait then return math.min(wait, self.server_cap) end]], to = [[if wait then return wait end]],
  why = "a server's wait is capped at 60 s", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-after-ms-ignored", file = "lua/homie/policy.lua",
  from = [[if ms and ms >= 0 then wait = ms / 1000 end]], to = [[if false then wait = ms / 1000 end]],
  why = "retry-after-ms sets the wait", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-after-date-ignored", file = "lua/homie/policy.lua",
  from = [[or seconds_until(ra, now)]], to = [[or nil]],
  why = "Retry-After as an HTTP date sets the wait", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-408-not-retried", file = "lua/homie/policy.lua",
  from = [[local RETRY_STATUS = { [408] = true,]], to = [[local RETRY_STATUS = { [408] = false,]],
  why = "408 is retried", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-send-after-500", file = "lua/homie/policy.lua",
  from = [[if not idempotent and not NOT_PROCESSED[status] then return nil end]],
  to = [[if false then return nil end]],
  why = "a message send is not retried once the server may have acted", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-503-acted", file = "lua/homie/policy.lua",
  from = [[local NOT_PROCESSED = { [429] = true, [503] = true }]], to = [[local NOT_PROCESSED = { [429] = true }]],
  why = "a send answered 503 is retried", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-maybe-acted-4xx", file = "lua/homie/policy.lua",
  from = [[return status >= 500 or (status >= 200 and status <= 299)]], to = [[return true]],
  why = "err.maybe_stored is false for a refused (4xx) send", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "retry-server-wait-ignored", file = "lua/homie/policy.lua",
  from = [[return self:server_wait(resp.headers) or self:backoff(attempt)]], to = [[return self:backoff(attempt)]],
  why = "Retry-After sets the wait of a call", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "retry-sent-send", file = "lua/homie/policy.lua",
  from = [[if not idempotent and M.maybe_acted(nil, fail) then return nil end]], to = [[if false then return nil end]],
  why = "a send that may have reached the server is not retried", specs = { "spec/unit/policy_spec.lua" } }

-- lua/homie/util.lua --------------------------------------------------------
mutant{ id = "util-unknown-option", file = "lua/homie/util.lua",
  from = [[if not allowed[k] then]], to = [[if false then]],
  why = "an unknown option raises", specs = { "spec/integration/client_spec.lua" } }
mutant{ id = "util-id-shape", file = "lua/homie/util.lua",
  from = [[if not v:match(ID) then]], to = [[if not v:match("^%S+$") then]],
  why = "an id must be 8-4-4-4-12 hex", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-utf8-surrogate", file = "lua/homie/util.lua",
  from = [[(cp >= 0xD800 and cp <= 0xDFFF)]], to = [[false]],
  why = "text must be valid UTF-8 (no surrogates)", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-utf8-overlong", file = "lua/homie/util.lua",
  from = [[if cp < min or cp > 0x10FFFF]], to = [[if cp > 0x10FFFF]],
  why = "text must be valid UTF-8 (no overlongs)", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-header-cr", file = "lua/homie/util.lua",
  from = [[if v:find("[\r\n]")]], to = [[if v:find("[\n]")]],
  why = "CR in a header value raises", specs = { "spec/unit/util_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "util-header-nul", file = "lua/homie/util.lua",
  from = [[ or v:find("\0", 1, true) then]], to = [[ then]],
  why = "NUL in a header value raises", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-urlencode-space", file = "lua/homie/util.lua",
  from = [[[^%w%-%._~]], to = [[[^%w%-%._~ ]],
  why = "query values are percent-encoded", specs = { "spec/unit/util_spec.lua", "spec/integration/wire_spec.lua" } }
mutant{ id = "util-null-kept", file = "csrc/ljson.c",
  from = [[vt == LUA_TLIGHTUSERDATA && lua_rawequal(L, -1, null_idx)]], to = [[0]],
  why = "JSON null reads as nil", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-no-integers", file = "csrc/ljson.c",
  from = [[lua_pushinteger(L, (lua_Integer)n);]], to = [[lua_pushnumber(L, n);]],
  why = "whole numbers are integers", specs = { "spec/unit/util_spec.lua" } }

-- csrc/sse.c: the parser ----------------------------------------------------
mutant{ id = "sse-bom", file = "csrc/sse.c",
  from = [[  if (p->bom < 3) {
    if ((rc = skip_bom(p)) != 0) return rc;]], to = [[  if (0) {
    if ((rc = skip_bom(p)) != 0) return rc;]],
  why = "a leading BOM is skipped", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-cr-line-end", file = "csrc/sse.c",
  from = [[eol = p->nlf < p->ncr ? p->nlf : p->ncr;]], to = [[eol = p->nlf;]],
  why = "CR ends a line", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-space-after-colon", file = "csrc/sse.c",
  from = [[if (vn && *v == ' ') { v++; vn--; }]], to = [[(void)0;]],
  why = "one space after the colon is dropped", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-retry-digits", file = "csrc/sse.c",
  from = [[if (v[i] < '0' || v[i] > '9') return;]], to = [[if (v[i] < '0' && v[i] > '9') return;]],
  why = "retry is honoured only when all digits", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-id-nul", file = "csrc/sse.c",
  from = [[if (s[0] != 'i' || s[1] != 'd' || memchr(v, 0, vn)) break;]], to = [[if (s[0] != 'i' || s[1] != 'd') break;]],
  why = "an id with NUL is ignored", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-data-join", file = "csrc/sse.c",
  from = [[if ((p->ndata && !buf_append(p, &p->data, "\n", 1)) || ]], to = [[if (]],
  why = "data lines are joined with LF", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-empty-dispatch", file = "csrc/sse.c",
  from = [[if (p->ndata == 0) { clear_event(p); return 0; }]], to = [[(void)0;]],
  why = "a block without data dispatches nothing", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-default-type", file = "csrc/sse.c",
  from = [[else { ev->type = "message"; ev->type_len = 7; }]], to = [[else { ev->type = "msg"; ev->type_len = 3; }]],
  why = "an event without event: is a message", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-max-event", file = "csrc/sse.c",
  from = [[  if (n > p->max_event - p->dlen - p->tlen) return drop_event(p, SSE_ERR_TOO_LARGE, 0);
]], to = "",
  why = "max_event_bytes bounds one event (the issue's hang)", specs = { "spec/unit/sse_spec.lua", "spec/integration/stream_spec.lua" } }
mutant{ id = "sse-split-crlf", file = "csrc/sse.c",
  from = [[if (p->in == end) p->skip_lf = 1;]], to = [[if (p->in == end) p->skip_lf = 0;]],
  why = "CR and LF split across chunks are one line end", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-finish-keeps-event", file = "csrc/sse.c",
  from = [[  sse_input(p, NULL, 0);
  clear_event(p);]], to = [[  sse_input(p, NULL, 0);]],
  why = "finish drops an unterminated event", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-reset-keeps-id", file = "csrc/sse.c",
  from = [[p->id_last.len = p->id_next.len = 0;]], to = [[(void)0;]],
  why = "reset forgets the last id", specs = { "spec/unit/sse_spec.lua" } }

-- csrc/lsse.c: the parser's binding -----------------------------------------
mutant{ id = "lsse-feed-hides-error", file = "csrc/lsse.c",
  from = [[  if (!c.err) return 1;
  lua_pushnil(L);]], to = [[  return 1;
  lua_pushnil(L);]],
  why = "feed reports an oversize event", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-closed-usable", file = "csrc/lsse.c",
  from = [[  if (!u->open) luaL_error(L, "homie: attempt to use a closed sse parser");]], to = "",
  why = "a closed parser raises", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-unknown-option", file = "csrc/lsse.c",
  from = [[homie_check_options(L, 1, "sse.parser", OPTIONS);]], to = [[(void)OPTIONS;]],
  why = "an unknown parser option raises", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-reentry", file = "csrc/lsse.c",
  from = [[  if (u->busy) luaL_error(L, "homie: an sse parser cannot be used from inside its own each() callback");]], to = "",
  why = "the parser refuses re-entry from its callback", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-retry-unset", file = "csrc/lsse.c",
  from = [[if (r < 0) lua_pushnil(L); else homie_pushint53(L, r);]], to = [[homie_pushint53(L, r < 0 ? 0 : r);]],
  why = "retry() is nil until the stream sends one", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-push-cached-by-length", file = "csrc/lbind.h",
  from = [[if (c && cn == n && memcmp(c, s, n) == 0) { lua_pushvalue(L, slot); return; }]],
  to = [[if (c && cn == n) { lua_pushvalue(L, slot); return; }]],
  why = "an event's type and id are its own, not the last string of the same length",
  specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-rest-lost", file = "csrc/lsse.c",
  from = [[else stash_keep(u, rest, rn, NULL, 0);]], to = [[else stash_drop(u);]],
  why = "a raising callback loses no event", specs = { "spec/unit/sse_spec.lua" } }

-- The Lua layer above the transport (after the transport seam).
-- lua/homie/client.lua
mutant{ id = "client-timeout-x10", file = "lua/homie/clock.lua",
  from = [[return earliest(self.timeout and self.t:now() + self.timeout, self.deadline_at)]],
  to = [[return earliest(self.timeout and self.t:now() + self.timeout * 10, self.deadline_at)]],
  why = "timeout bounds one attempt", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "client-deadline-x10", file = "lua/homie/clock.lua",
  from = [[started_at = now, deadline_at = span and now + span or nil }, Bounds)]],
  to = [[started_at = now, deadline_at = span and now + span * 10 or nil }, Bounds)]],
  why = "deadline bounds a call with its retries", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "client-key-crlf", file = "lua/homie/session.lua",
  from = [[  util.check_header_value("api_key", key)
]], to = [[]],
  why = "CR/LF in api_key raises", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "client-bearer-ignored", file = "lua/homie/session.lua",
  from = [==[  if auth == "bearer" then
    base_headers["Authorization"]==], to = [==[  if false then
    base_headers["Authorization"]==],
  why = "auth = \"bearer\" sends Authorization: Bearer", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "client-log-unredacted", file = "lua/homie/session.lua",
  from = [[self.logger(errors.redact(fmt:format(...), self.secret()))]], to = [[self.logger(fmt:format(...))]],
  why = "log lines never show the key", specs = { "spec/unit/request_cycle_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "client-insecure-ignored", file = "lua/homie/session.lua",
  from = [[insecure = optional("insecure", opts.insecure, "boolean") or false,]], to = [[insecure = false,]],
  why = "insecure = true turns verification off", specs = { "spec/integration/reliability_spec.lua" } }
mutant{ id = "client-max-body-ignored", file = "lua/homie/session.lua",
  from = [[local max_body = span("max_body", opts.max_body, 8 * 1024 * 1024)]], to = [[local max_body = 8 * 1024 * 1024]],
  why = "max_body bounds an answer", specs = { "spec/integration/reliability_spec.lua" } }
mutant{ id = "curl-send-reused-connection", file = "lua/homie/transport/curl.lua",
  from = [[o.fresh_connect = req.idempotent == false]], to = [[o.fresh_connect = false]],
  why = "a send or chat creation takes a fresh connection, so libcurl never re-sends it",
  specs = { "spec/integration/reliability_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "client-no-attempts", file = "lua/homie/session.lua",
  from = [[    err.attempts = attempt
]], to = "",
  why = "err.attempts counts the attempts", specs = { "spec/integration/reliability_spec.lua" } }
mutant{ id = "client-ua-suffix", file = "lua/homie/session.lua",
  from = [[if opts.user_agent ~= nil then ua = ua .. " " .. opts.user_agent end]], to = [[local _ = ua]],
  why = "user_agent is appended to the User-Agent", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "client-extra-retry", file = "lua/homie/session.lua",
  from = [[local give_up = not wait or attempt > max_retries]], to = [[local give_up = not wait or attempt > max_retries + 1]],
  why = "max_retries bounds the retries", specs = { "spec/integration/reliability_spec.lua" } }
-- lua/homie/chat.lua
mutant{ id = "retry-tls-retried", file = "lua/homie/policy.lua",
  from = [[if fail.retryable == false then return nil end]], to = [[local _ = fail]],
  why = "a bad certificate is not retried", specs = { "spec/unit/policy_spec.lua" } }
mutant{ id = "client-create-idempotent", file = "lua/homie/client.lua",
  from = [[body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = false }))]],
  to = [[body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = true }))]],
  why = "create_chat follows the send rule", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "message-uri-url", file = "lua/homie/message.lua",
  from = [[if type(p) == "table" and p.url == nil and p.uri ~= nil then p.url = p.uri end]], to = [[local _ = p]],
  why = "a product with only uri also gets url", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "client-messages-silent", file = "lua/homie/client.lua",
  from = [[        over = true
        return false, err]], to = [[        over = true
        return nil]],
  why = "messages() yields false, err on failure", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "client-store-dropped", file = "lua/homie/api.lua",
  from = [[query = util.query({ { "store", opts.store } }),]], to = [[query = "",]],
  why = "store goes in the query", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "client-pages-stuck", file = "lua/homie/client.lua",
  from = [[page = (p.nextPage and p.nextPage > page) and p.nextPage or page + 1]], to = [[page = page]],
  why = "messages() walks every page", specs = { "spec/integration/client_spec.lua" } }
-- lua/homie/stream.lua
mutant{ id = "stream-retry-ignored", file = "lua/homie/policy.lua",
  from = [[local base = retry_ms and retry_ms / 1000 or self.stream_base]], to = [[local base = self.stream_base]],
  why = "a stream waits the server's retry:", specs = { "spec/integration/reconnect_spec.lua", "spec/unit/policy_spec.lua" } }
mutant{ id = "stream-no-doubling", file = "lua/homie/policy.lua",
  from = [[base * 2 ^ failures]], to = [[base * 1 ^ failures]],
  why = "stream waits double per consecutive failure", specs = { "spec/integration/reconnect_spec.lua", "spec/unit/policy_spec.lua" } }
mutant{ id = "stream-idle-by-clock", file = "lua/homie/stream.lua",
  from = [[elseif why and why.idle and deadline_at and deadline_at < idle_at then]],
  to = [[elseif why and why.idle and deadline_at and t:now() < idle_at then]],
  why = "a read bounded by idle_timeout that ends a millisecond early (nginx's clock) still reconnects",
  specs = { "spec/unit/stream_clock_spec.lua" }, filter = "millisecond early" }
mutant{ id = "stream-failures-kept", file = "lua/homie/stream.lua",
  from = [[        self.failures = 0
        -- a relay's wire item]], to = [[        -- a relay's wire item]],
  why = "a delivered event resets the failure count", specs = { "spec/integration/reconnect_spec.lua" } }
mutant{ id = "stream-retry-after-ignored", file = "lua/homie/stream.lua",
  from = [[return "retry", session.policy:server_wait(h) or self:backoff(), err]], to = [[return "retry", self:backoff(), err]],
  why = "a stream honours Retry-After on 429/5xx", specs = { "spec/integration/reconnect_spec.lua" } }
mutant{ id = "stream-retries-401", file = "lua/homie/stream.lua",
  from = [[if policy.status_retryable(status) then]], to = [[if true then]],
  why = "401/403/404 are not retried", specs = { "spec/integration/reconnect_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "stream-retries-204", file = "lua/homie/stream.lua",
  from = [[if status == 204 then return "end" end]], to = [[if status == 204 then return "retry", self:backoff() end]],
  why = "a 204 ends the stream (the issue's hang)", specs = { "spec/integration/reconnect_spec.lua", "spec/integration/contract_spec.lua" } }
mutant{ id = "stream-fallback-forgotten", file = "lua/homie/stream.lua",
  from = [[if self.trying_intro then session.events_intro = true end]], to = [[local _ = session]],
  why = "the 404 fallback path is remembered per client", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "stream-close-noop", file = "lua/homie/stream.lua",
  from = [[Stream.__close = function(self) self:_finish("closed") end]], to = [[Stream.__close = function() end]],
  why = "<close> closes a stream", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "stream-max-event-ignored", file = "lua/homie/stream.lua",
  from = [[parser = sse.parser({ max_event_bytes = opts.max_event_bytes, comments = opts.on_comment ~= nil }),]],
  to = [[parser = sse.parser({ comments = opts.on_comment ~= nil }),]],
  why = "max_event_bytes bounds a stream's event (the issue's hang)", specs = { "spec/integration/stream_spec.lua" } }
mutant{ id = "stream-no-last-event-id", file = "lua/homie/stream.lua",
  from = [==[if self.last_id and self.last_id ~= "" then more["Last-Event-ID"] = self.last_id end]==], to = [[local _ = more]],
  why = "a reconnect sends Last-Event-ID", specs = { "spec/integration/reconnect_spec.lua" } }
mutant{ id = "stream-idle-x10", file = "lua/homie/stream.lua",
  from = [[local idle_at = self.heard_at + self.idle_timeout]], to = [[local idle_at = self.heard_at + self.idle_timeout * 10]],
  why = "idle_timeout bounds silence", specs = { "spec/integration/reconnect_spec.lua" } }
mutant{ id = "stream-connect-x10", file = "lua/homie/stream.lua",
  from = [[local head_at = t:now() + connect_timeout]], to = [[local head_at = t:now() + connect_timeout * 10]],
  why = "connect_timeout bounds a stream's head", specs = { "spec/unit/bounds_spec.lua", "spec/integration/reconnect_spec.lua" } }
mutant{ id = "stream-tls-retried", file = "lua/homie/stream.lua",
  from = [[if f.retryable == false then return "fatal", err end]], to = [[local _ = f]],
  why = "a bad certificate ends a stream at once", specs = { "spec/integration/reliability_spec.lua" } }
mutant{ id = "stream-any-content-type", file = "lua/homie/stream.lua",
  from = [[if not ctype:find("text/event-stream", 1, true) then]], to = [[if false then]],
  why = "a wrong content type is a protocol error", specs = { "spec/integration/stream_spec.lua" } }
mutant{ id = "stream-max-reconnects", file = "lua/homie/stream.lua",
  from = [[if self.failures > self.max_reconnects then]], to = [[if self.failures > self.max_reconnects + 100 then]],
  why = "max_reconnects bounds consecutive reconnects", specs = { "spec/integration/stream_spec.lua" } }
-- lua/homie/ask.lua
mutant{ id = "ask-leaks-stream", file = "lua/homie/ask.lua",
  from = [[  stream:_finish((reply and finals[reply.id] or not reply and streamed) and "final" or "closed")
  if not ok then error(raised, 0) end]], to = [[  if not ok then error(raised, 0) end
  stream:_finish("closed")]],
  why = "ask closes its stream when on_event raises", specs = { "spec/integration/contract_spec.lua" } }
mutant{ id = "ask-no-events", file = "lua/homie/ask.lua",
  from = [[if on_event then on_event(ev) end]], to = [[local _ = on_event]],
  why = "ask calls on_event per event", specs = { "spec/integration/stream_spec.lua" } }
mutant{ id = "ask-no-early-read-end", file = "lua/homie/ask.lua",
  from = [[if early and streamed and not sent_at then return "early" end]], to = [[local _ = early]],
  why = "ask ends with the send when the final event came first, not a read slice later",
  specs = { "spec/unit/ask_spec.lua" } }
mutant{ id = "ask-no-resumed-read", file = "lua/homie/ask.lua",
  from = [[if ok and read == "early" then ok, raised = util.pcall(watch, false) end]], to = [[local _ = read]],
  why = "ask reads on for the reply's own final event when the answer it saw first was another's",
  specs = { "spec/unit/ask_spec.lua" } }
-- lua/homie/transport/curl.lua
mutant{ id = "curl-no-multiplex", file = "csrc/lrequest.c",
  from = [[} else if (is_https(o->url)) {]], to = [[} else if (is_https(o->url) && 0) {]],
  why = "over https, streams and reads share one h2 connection", specs = { "spec/integration/curl_h2_spec.lua" },
  filter = "one h2 connection" }
mutant{ id = "curl-always-sent", file = "lua/homie/transport/curl.lua",
  from = [[    sent = r:info().request_bytes > 0,
    retryable]], to = [[    sent = true,
    retryable]],
  why = "a refused send is retried (it provably never arrived)", specs = { "spec/integration/client_spec.lua" } }

-- The API as issue 12 part 5 fixed it (the transport seam).
mutant{ id = "stream-timeout-absolute", file = "lua/homie/stream.lua",
  from = [[  return self.session.transport:now() + timeout  -- math.huge: no limit]],
  to = [[  return timeout  -- math.huge: no limit]],
  why = "next_event(timeout) takes seconds", specs = { "spec/integration/api_contract_spec.lua" } }
mutant{ id = "stream-error-no-attempts", file = "lua/homie/stream.lua",
  from = [[  fields.attempts = fields.attempts or self.failures + 1
]], to = "",
  why = "stream errors carry attempts", specs = { "spec/integration/api_contract_spec.lua" } }
mutant{ id = "stream-oversize-continues", file = "lua/homie/stream.lua",
  from = [[local list, n = evs or others or {}, evs and #evs or before]],
  to = [[local list = evs or others or {}
  local n = #list]],
  why = "an oversize event ends the stream at its place", specs = { "spec/integration/api_contract_spec.lua" } }
mutant{ id = "client-insecure-untyped", file = "lua/homie/session.lua",
  from = [[insecure = optional("insecure", opts.insecure, "boolean") or false,]], to = [[insecure = opts.insecure == true,]],
  why = "insecure = \"yes\" raises like every mistyped option", specs = { "spec/integration/api_contract_spec.lua" } }
mutant{ id = "ask-final-wait-untyped", file = "lua/homie/ask.lua",
  from = [[  if opts.final_wait ~= nil then util.check_span("final_wait", opts.final_wait) end
]], to = "",
  why = "ask's final_wait is type-checked", specs = { "spec/integration/api_contract_spec.lua" } }


-- == mutants ==
-- Issue 20's survivors, as the audit wrote them (each killed by a spec that
-- states the behaviour), then mutants of every C and Lua module of the
-- transport: transport.c, lrequest.c, lcurl.c, lbind.c, sse.c, lsse.c,
-- lsse_module.c, transport/curl.lua, curl_sched.lua, util.lua, message.lua.
-- The audit's survivors.
mutant{ id = "transport-max-body-exact", file = "csrc/transport.c",
  from = [[} else if (r->body.len + len > r->max_body) {]], to = [[} else if (r->body.len + len >= r->max_body) {]],
  why = "max_body is the largest body accepted (a body of exactly max_body passes)",
  specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-verifyhost-off", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);]],
  to = [[curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);]],
  why = "TLS verification is on: a trusted certificate for another host name is refused",
  specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-connect-timeout-seconds", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);]],
  to = [[curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_ms);]],
  why = "connect_timeout is in seconds: a listener that never accepts times out then",
  specs = { "spec/integration/connect_timeout_spec.lua" } }
mutant{ id = "sched-heap-push-upside-down", file = "lua/homie/transport/curl_sched.lua",
  from = [[if hat[p] <= at then break end]], to = [[if hat[p] >= at then break end]],
  why = "gather wakes sleepers at their deadlines, in order (the deadline heap)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-heap-pop-wrong-child", file = "lua/homie/transport/curl_sched.lua",
  from = [[if c < n and hat[c + 1] < hat[c] then c = c + 1 end]], to = [[if c < n and hat[c + 1] > hat[c] then c = c + 1 end]],
  why = "gather wakes sleepers at their deadlines, in order (the deadline heap)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-heap-pop-stops-early", file = "lua/homie/transport/curl_sched.lua",
  from = [[if at <= hat[c] then break end]], to = [[if at >= hat[c] then break end]],
  why = "gather wakes sleepers at their deadlines, in order (the deadline heap)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-raise-keeps-siblings", file = "lua/homie/transport/curl_sched.lua",
  from = [[  kill(S, group)
  group_over(S, group)]], to = [[  group_over(S, group)]],
  why = "a task that raises stops the others of its gather, even when the caller catches it",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "curl-deadline-unsent", file = "lua/homie/transport/curl.lua",
  from = [[message = "deadline exceeded", sent = sent,]], to = [[message = "deadline exceeded", sent = false,]],
  why = "a send cut by the deadline after it went out may be stored (maybe_stored)",
  specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "sse-event-bound-exact", file = "csrc/sse.c",
  from = [[if (n > p->max_event - p->dlen - p->tlen) return drop_event(p, SSE_ERR_TOO_LARGE, 0);]],
  to = [[if (n >= p->max_event - p->dlen - p->tlen) return drop_event(p, SSE_ERR_TOO_LARGE, 0);]],
  why = "max_event_bytes is the largest event (one of exactly that size is delivered)",
  specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-partial-line-unbounded", file = "csrc/sse.c",
  from = [[  if (n > p->max_event - p->dlen - p->tlen - p->line.len)
    return drop_event(p, SSE_ERR_TOO_LARGE, 1);
]], to = "",
  why = "the parser bounds memory by max_event_bytes, also for a line that never ends",
  specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-partial-line-per-piece", file = "csrc/sse.c",
  from = [[  if (n > p->max_event - p->dlen - p->tlen - p->line.len)
    return drop_event(p, SSE_ERR_TOO_LARGE, 1);]], to = [[  if (n > p->max_event - p->dlen - p->tlen)
    return drop_event(p, SSE_ERR_TOO_LARGE, 1);]],
  why = "the parser bounds memory by max_event_bytes, also for a line that never ends",
  specs = { "spec/unit/sse_spec.lua" } }

-- csrc/transport.c
mutant{ id = "transport-stream-unpaused", file = "csrc/transport.c",
  from = [[if (r->body.len > 0 && r->body.len + len > r->max_body) {]], to = [[if (0) {]],
  why = "a stream's buffer stays bounded (back-pressure)", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "transport-close-not-done", file = "csrc/transport.c",
  from = [[      r->done = 1;
      r->result = CURLE_ABORTED_BY_CALLBACK;]], to = [[      r->result = CURLE_ABORTED_BY_CALLBACK;]],
  why = "closing the client ends every transfer", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "transport-ready-twice", file = "csrc/transport.c",
  from = [[  if (r->mark == m->epoch) return;
]], to = "",
  why = "a step lists each transfer that progressed once (wake-ups proportional to what happened)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "transport-end-unlisted", file = "csrc/transport.c",
  from = [[    mark(r);
    detach(r);]], to = [[    detach(r);]],
  why = "a finished transfer is reported to its waiter", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "transport-1xx-head-kept", file = "csrc/transport.c",
  from = [[    r->head.len = 0;
    r->headers_done = 0;]], to = [[    r->headers_done = 0;]],
  why = "headers are the final response's (an informational one's are dropped)", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "transport-reused-handle-unreset", file = "csrc/lrequest.c",
  from = [[  if (had) curl_easy_reset(e);
]], to = "",
  why = "each request sends only its own method, headers and body (a handle kept by a request of another shape is reset)",
  specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "transport-shapeless-handle-unreset", file = "csrc/transport.c",
  from = [[      if (!r->shape) curl_easy_reset(r->easy);
      else unbind(r->easy);
]], to = [[      if (r->shape) unbind(r->easy);
]],
  why = "each request sends only its own options (a user agent of the last request on the handle does not stay)",
  specs = { "spec/integration/transport_spec.lua" }, filter = "same shape" }
mutant{ id = "lrequest-shape-without-body", file = "csrc/lrequest.c",
  from = [[  if (o->body) s |= HSHAPE_BODY;]], to = [[  (void)0;]],
  why = "a request without a body sends none, after one with a body on the same handle",
  specs = { "spec/integration/transport_spec.lua" }, filter = "same shape" }
mutant{ id = "lrequest-shape-any", file = "csrc/lrequest.c",
  from = [[  if (had && had == r->shape) {]], to = [[  if (had) {]],
  why = "a handle keeps only the options of a request of the same shape",
  specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-kept-headers-stay", file = "csrc/transport.c",
  from = [[  curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
]], to = "",
  why = "a request without headers sends none of the last request's on its handle",
  specs = { "spec/integration/transport_spec.lua" }, filter = "same shape" }
mutant{ id = "lrequest-kept-timeout-stays", file = "csrc/lrequest.c",
  from = [[  if (kept || o->timeout_ms > 0) curl_easy_setopt]], to = [[  if (o->timeout_ms > 0) curl_easy_setopt]],
  why = "a request without a timeout has none, though the last request on its handle had one",
  specs = { "spec/integration/transport_spec.lua" }, filter = "same shape" }
mutant{ id = "transport-wake-early", file = "csrc/transport.c",
  from = [[return (double)ms < t * 1000 ? ms + 1 : ms; /* rounded up: never wake early */]], to = [[return ms;]],
  why = "waits end at their deadline",
  equivalent = "waking up to 1 ms early costs one more round: every wait re-checks its own deadline before it returns" }

mutant{ id = "transport-mux-no-probe", file = "csrc/transport.c",
  from = [[if (!r->opened || r->done || r->headers_done) return 1;]], to = [[return 1;]],
  why = "beyond the server's concurrent-stream limit, streams open one more h2 connection, not one each",
  specs = { "spec/integration/curl_h2_spec.lua" }, filter = "beyond the limit" }
mutant{ id = "transport-mux-settled-at-handshake", file = "csrc/transport.c",
  from = [[  return hmono() - r->tls_at >= HMUX_SETTINGS_WAIT;]], to = [[  return 1;]],
  why = "held streams wait for the new connection's SETTINGS (its limit), not just its TLS handshake",
  specs = { "spec/integration/curl_h2_spec.lua" }, filter = "once the server has spoken" }
mutant{ id = "transport-mux-handle-reused", file = "csrc/transport.c",
  from = [[owner->nspare < HMULTI_SPARE && !r->mux) {]], to = [[owner->nspare < HMULTI_SPARE) {]],
  why = "an easy handle that served an h2 stream is not reused (libcurl 7.88.1 overruns its buffer)",
  specs = { "spec/integration/curl_h2_spec.lua" }, filter = "round after round",
  equivalent = "since sends run in their own multi (51fbf74) no run shows the overrun: with this mutant "
    .. "curl_h2_spec and tls_resume_spec pass under valgrind with 0 errors (2 runs); the guard stays, as "
    .. "the cheap side of a hazard seen before that fix" }

mutant{ id = "transport-fresh-events-to-shared", file = "csrc/transport.c",
  from = [[int fresh = (int)(ev[i].data.u64 >> 32);]], to = [[int fresh = 0;]],
  why = "the sockets of transfers on their own connection are driven by their own multi handle",
  specs = { "spec/integration/transport_spec.lua" }, filter = "gets a slow answer on a connection of its own" }
mutant{ id = "transport-fresh-timer-skipped", file = "csrc/transport.c",
  from = [[  return run_timer_of(m->fresh, &m->fresh_timer_at, &m->fresh_running);]], to = [[  return 0;]],
  why = "the fresh multi's timer runs: a send added to it starts",
  specs = { "spec/integration/transport_spec.lua" }, filter = "fresh_connect asks" }
mutant{ id = "transport-parked-event-passed-on", file = "csrc/transport.c",
  from = [[    if ((size_t)fd < m->nfds && (m->fds[fd] & HFD_PARKED)) {]], to = [[    if (0) {]],
  why = "a pooled connection closed by the server leaves the epoll set: waits still last their time",
  specs = { "spec/integration/transport_spec.lua" }, filter = "does not cut a later wait short" }
mutant{ id = "transport-parked-never", file = "csrc/transport.c",
  from = [[    if (slot && *slot && r && r->multi == m && r->headers_done) {]],
  to = [[    if (0) {]],
  why = "a keep-alive socket stays in the epoll set between transfers (no epoll_ctl per request)",
  equivalent = "only the syscalls change (strace -c bench/request_bench.lua: 0 epoll_ctl per keep-alive GET, 2 without)" }
mutant{ id = "transport-parked-while-connecting", file = "csrc/transport.c",
  from = [[    if (slot && *slot && r && r->multi == m && r->headers_done) {]],
  to = [[    if (slot && *slot && r && r->multi == m) {]],
  why = "only a connected socket is parked: libcurl closes a socket still connecting without the close callback",
  equivalent = "libcurl closes a connecting socket without the callback when happy eyeballs drops the slower of " ..
    "two addresses, and then a new socket must reuse its number while asking for the same events; loopback " ..
    "specs have one address per URL" }
mutant{ id = "transport-closed-socket-kept", file = "csrc/transport.c",
  from = [[  fd_forget(ud, s);
]], to = "",
  why = "a closed socket is forgotten, so a new one with its number is added to the epoll set",
  equivalent = "a new TCP socket first asks for OUT (its connect) where a parked one had IN: the stale entry " ..
    "costs a failed MOD and the ADD fallback; only a threaded resolver's socketpair asks for IN at once, " ..
    "and the specs resolve no name but localhost, which libcurl answers itself" }

mutant{ id = "transport-presize-past-max-body", file = "csrc/transport.c",
  from = [[    if (want > r->max_body) want = r->max_body;
]], to = "",
  why = "an answer's promised length reserves no more than max_body",
  equivalent = "only untouched address space changes (at most HBUF_PRESIZE_MAX, 1 MiB): the body still ends " ..
    "at max_body with too_large, and pages are resident only once bytes arrive" }
mutant{ id = "transport-presize-unbounded", file = "csrc/transport.c",
  from = [[    if (want > HBUF_PRESIZE_MAX) want = HBUF_PRESIZE_MAX;
]], to = "",
  why = "a server that promises much and sends little costs little",
  equivalent = "malloc of a large block maps pages it does not touch: RSS grows only with the bytes received, " ..
    "so no spec can tell (max_body still bounds it)" }
mutant{ id = "transport-presize-wrong-length", file = "csrc/transport.c",
  from = [[    n = n * 10 + (size_t)(p[i] - '0');]], to = [[    n = n * 10 + (size_t)(p[i] - '0') + 1000000;]],
  why = "the reserved room follows the answer's Content-Length",
  equivalent = "the reservation is a hint only: a wrong one costs a realloc or unused room, never a byte of the body" }

-- csrc/lrequest.c
mutant{ id = "lrequest-send-in-shared-multi", file = "csrc/lrequest.c",
  from = [[    r->fresh = 1;]], to = [[    (void)0;]],
  why = "a send runs in the multi of transfers on their own connection: libcurl 7.88.1 put streams onto a "
    .. "send's connection after a GOAWAY (curl_h2_spec's GOAWAY case catches that about half the time)",
  specs = { "spec/integration/transport_spec.lua" }, filter = "fresh_connect asks" }
mutant{ id = "lrequest-unknown-option-accepted", file = "csrc/lbind.c",
  from = [[if (i <= 0) luaL_error(L, "homie: unknown %s option]], to = [[if (0) luaL_error(L, "homie: unknown %s option]],
  why = "an unknown request option raises, naming it", specs = { "spec/integration/transport_spec.lua" },
  filter = "checks its arguments" }
mutant{ id = "lrequest-header-name-case-kept", file = "csrc/lrequest.c",
  from = [[for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)p[i]);]],
  to = [[for (size_t i = 0; i < n; i++) lower[i] = p[i];]],
  why = "header names are lower-cased", specs = { "spec/integration/transport_spec.lua" },
  filter = "parses headers, lower%-cased" }
mutant{ id = "lrequest-read-buffer-small", file = "csrc/lrequest.c",
  from = [[o->fresh_connect ? 4096L : 16384L);]], to = [[o->fresh_connect ? 4096L : 4096L);]],
  why = "a read's answer of a few KB comes in one recv()",
  equivalent = "only the number of recv() calls changes (strace -c bench/request_bench.lua transport get: 2 per GET, not 1)" }
mutant{ id = "lrequest-send-buffer-large", file = "csrc/lrequest.c",
  from = [[o->fresh_connect ? 4096L : 16384L);]], to = [[o->fresh_connect ? 16384L : 16384L);]],
  why = "a send in flight holds a 4 KiB receive buffer (memory at 1000 concurrent asks)",
  equivalent = "only memory changes, measured by bench/asks_bench.lua's peak RSS row, not by a spec" }
mutant{ id = "lrequest-send-over-h2", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);]], to = [[(void)0;]],
  why = "a send never goes over h2, so it never shares a connection", specs = { "spec/integration/curl_h2_spec.lua" },
  filter = "sends each on a fresh" }
mutant{ id = "lrequest-headers-shared-by-count", file = "csrc/lrequest.c",
  from = [[same = strlen(h->nodes[i - 1].data) == len && memcmp(h->nodes[i - 1].data, s, len) == 0;]],
  to = [[same = s != NULL;]],
  why = "a request sends its own headers, though the client's last request sent as many other ones",
  specs = { "spec/integration/reconnect_spec.lua", "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-verifypeer-off", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);]],
  to = [[curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);]],
  why = "TLS verification is on: a certificate no trusted CA signed is refused", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-ca-file-ignored", file = "csrc/lrequest.c",
  from = [[if (o->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);]], to = [[(void)o->ca_file;]],
  why = "ca_file names the CA to trust", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-ca-path-ignored", file = "csrc/lrequest.c",
  from = [[if (o->ca_path) curl_easy_setopt(e, CURLOPT_CAPATH, o->ca_path);]], to = [[(void)o->ca_path;]],
  why = "ca_path names trust anchors", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-insecure-ignored", file = "csrc/lrequest.c",
  from = [[o->insecure = opt_bool(L, key);]], to = [[o->insecure = 0 * opt_bool(L, key);]],
  why = "insecure = true turns verification off", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-send-connection-kept", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);]], to = [[(void)0;]],
  why = "a send's fresh connection is closed after it, not left idle in the cache",
  specs = { "spec/integration/client_spec.lua" } }
mutant{ id = "lrequest-timeout-seconds", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);]], to = [[curl_easy_setopt(e, CURLOPT_TIMEOUT, o->timeout_ms);]],
  why = "timeout is in seconds: a server that never answers ends in a timeout then", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-timeout-rounded-to-none", file = "csrc/lrequest.c",
  from = [[return (double)whole < ms ? whole + 1 : whole;]], to = [[return whole;]],
  why = "a tiny positive timeout still times out", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-negative-span", file = "csrc/lrequest.c",
  from = [[if (!(v >= 0 && v - v == 0)) /* false for NaN and +-inf */]], to = [[if (!(v - v == 0))]],
  why = "a bad option raises naming it (negative seconds)", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-fresh-connect-ignored", file = "csrc/lrequest.c",
  from = [[    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
]], to = "",
  why = "a message send goes out on a new connection", specs = { "spec/integration/transport_spec.lua" },
  equivalent = "sends run in the client's second multi (hmulti.fresh) with FORBID_REUSE: no connection "
    .. "is ever left in its cache for a send to find; FRESH_CONNECT states the rule a second time" }
mutant{ id = "lrequest-user-agent-dropped", file = "csrc/lrequest.c",
  from = [[if (o->user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);]], to = [[(void)o->user_agent;]],
  why = "requests carry the SDK's User-Agent", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-no-compression", file = "csrc/lrequest.c",
  from = [[if (o->accept_encoding) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");]], to = [[(void)o->accept_encoding;]],
  why = "answers may come compressed (Accept-Encoding)", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-compression-forced", file = "csrc/lrequest.c",
  from = [[o->accept_encoding = opt_bool(L, key);]], to = [[o->accept_encoding = 1 | opt_bool(L, key);]],
  why = "a stream asks for no compression (accept_encoding = false)", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-body-strlen", file = "csrc/lrequest.c",
  from = [[    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
]], to = "",
  why = "a body is sent as is, every byte", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-method-dropped", file = "csrc/lrequest.c",
  from = [[if (o->custom) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);]], to = [[(void)o->method;]],
  why = "a request is sent with its method", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-response-of-failure", file = "csrc/lrequest.c",
  from = [[  if (!r->done || r->result != CURLE_OK || r->oom) {]], to = [[  if (!r->done || r->oom) {]],
  why = "a failed transfer has no response: its failure is returned (an answer over max_body, say)",
  specs = { "spec/integration/curl_transport_spec.lua" }, filter = "max_body" }
mutant{ id = "lrequest-headers-dropped", file = "csrc/lrequest.c",
  from = [[curl_easy_setopt(e, CURLOPT_HTTPHEADER, &r->hdrs->nodes[0]);]], to = [[(void)0;]],
  why = "a request carries its headers", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-header-case", file = "csrc/lrequest.c",
  from = [[luaL_addchar(&name, (char)tolower((unsigned char)*q));]], to = [[luaL_addchar(&name, *q);]],
  why = "response header names are lower-cased", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-header-join", file = "csrc/lrequest.c",
  from = [[lua_pushliteral(L, ", ");]], to = [[lua_pushliteral(L, ",");]],
  why = "repeated response headers are joined with \", \"", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-header-trailing-space", file = "csrc/lrequest.c",
  from = [[while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;]],
  to = [[while (ve > v && ve[-1] == '\r') ve--;]],
  why = "header values are trimmed", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-header-leading-space", file = "csrc/lrequest.c",
  from = [[while (v < ve && (*v == ' ' || *v == '\t')) v++;]], to = [[if (v < ve && *v == ' ') v++;]],
  why = "header values are trimmed", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-status-zero", file = "csrc/lrequest.c",
  from = [[if (r->status > 0) lua_pushinteger(L, r->status); else lua_pushnil(L);]], to = [[lua_pushinteger(L, r->status);]],
  why = "a transfer has no status before its head", specs = { "spec/integration/wire_spec.lua" } }
mutant{ id = "lrequest-timeout-kind", file = "csrc/lrequest.c",
  from = [[case CURLE_OPERATION_TIMEDOUT: return "timeout";]], to = [[case CURLE_OPERATION_TIMEDOUT: return "connection";]],
  why = "a timeout is err.kind timeout", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-tls-kind", file = "csrc/lrequest.c",
  from = [[    case CURLE_PEER_FAILED_VERIFICATION:
]], to = "",
  why = "a bad certificate is a TLS failure, not retried", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "lrequest-connect-kind", file = "csrc/lrequest.c",
  from = [[    case CURLE_COULDNT_CONNECT:
]], to = "",
  why = "a refused connection says connect (provably not sent)", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-closed-kind", file = "csrc/lrequest.c",
  from = [[case CURLE_ABORTED_BY_CALLBACK: return "closed";]], to = [[case CURLE_ABORTED_BY_CALLBACK: return "connection";]],
  why = "closing the client ends its transfers as closed", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-take-stays-paused", file = "csrc/lrequest.c",
  from = [[  hbuf_free(&r->body);
  hreq_resume(r);]], to = [[  hbuf_free(&r->body);]],
  why = "a stream loses no byte under back-pressure (reading resumes it)", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-wait-unbounded", file = "csrc/lrequest.c",
  from = [[if (n > 64) return luaL_error(L, "homie: curl.wait takes at most 64 multis, got %d", n);]], to = [[if (n > 65) n = 64;]],
  why = "bad input gets a clear error naming what was wrong", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-request-bytes-lie", file = "csrc/lrequest.c",
  from = [[lua_pushinteger(L, sent); lua_setfield(L, -2, "request_bytes");]],
  to = [[lua_pushinteger(L, sent + 1); lua_setfield(L, -2, "request_bytes");]],
  why = "a refused send provably never arrived (0 request bytes)", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-connects-zero", file = "csrc/lrequest.c",
  from = [[  curl_easy_getinfo(check_req(L)->easy, CURLINFO_NUM_CONNECTS, &conns);]], to = [[  (void)check_req(L);]],
  why = "a request says how many new connections it made", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-url-optional", file = "csrc/lrequest.c",
  from = [[  if (!o->url) luaL_error(L, "homie: request option 'url' is required");
]], to = "",
  why = "bad input gets a clear error naming what was wrong", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lrequest-any-protocol", file = "csrc/lrequest.c",
  from = [[  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
]], to = "",
  why = "the transport only speaks http and https", specs = { "spec/integration/transport_spec.lua" } }

-- csrc/lbind.c
mutant{ id = "lbind-count-zero", file = "csrc/lbind.c",
  from = [[if (!(v >= 1 && v <= HOMIE_MAX_COUNT)]], to = [[if (!(v >= 0 && v <= HOMIE_MAX_COUNT)]],
  why = "byte limits are whole numbers from 1", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-count-fraction", file = "csrc/lbind.c",
  from = [[ || v != (lua_Number)(size_t)v)]], to = [[)]],
  why = "byte limits are whole numbers", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-count-ceiling", file = "csrc/lbind.c",
  from = [[v <= HOMIE_MAX_COUNT)]], to = [[v <= 2 * HOMIE_MAX_COUNT)]],
  why = "byte limits are at most 2^32", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-unknown-option", file = "csrc/lbind.c",
  from = [[if (i <= 0) luaL_error(L, "homie: unknown %s option '%s'", what, lua_tostring(L, -3));]],
  to = [[(void)i;]],
  why = "an unknown option raises naming it", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-checkself-any", file = "csrc/lbind.c",
  from = [[    if (same) return p;]], to = [[    if (same || 1) return p;]],
  why = "a method refuses an object of another class", specs = { "spec/integration/transport_spec.lua" },
  filter = "another class" }
mutant{ id = "lbind-size-decimals", file = "csrc/lbind.c",
  from = [[snprintf(s, sizeof s, "%.0f", (double)n);]], to = [[snprintf(s, sizeof s, "%.1f", (double)n);]],
  why = "the oversize error names the limit in bytes", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lbind-no-gc", file = "csrc/lbind.c",
  from = [[static const char *const closers[] = {"close", "__gc", "__close"};]],
  to = [[static const char *const closers[] = {"close", "__close", "__close"};]],
  why = "a parser or client is freed when collected (__gc is close)", specs = { "spec/unit/sse_spec.lua" } }

-- csrc/lcurl.c and csrc/lsse_module.c
mutant{ id = "lcurl-version", file = "csrc/lcurl.c",
  from = [[lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);]], to = [[lua_pushstring(L, "libcurl");]],
  why = "the User-Agent names the libcurl version", specs = { "spec/integration/transport_spec.lua" } }
mutant{ id = "lcurl-no-global-init", file = "csrc/lcurl.c",
  from = [[  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "homie: curl_global_init failed");
]], to = "",
  why = "libcurl is set up before use",
  equivalent = "curl_easy_init runs curl_global_init itself when nobody has; a Lua state loads modules in one thread" }
mutant{ id = "lsse-now-scale", file = "csrc/hclock.h",
  from = [[(double)ts.tv_nsec / 1e9]], to = [[(double)ts.tv_nsec / 1e6]],
  why = "now() is seconds that never go back", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-now-wall-clock", file = "csrc/hclock.h",
  from = [[clock_gettime(CLOCK_MONOTONIC, &ts);]], to = [[clock_gettime(CLOCK_REALTIME, &ts);]],
  why = "deadlines and backoff survive a change of the wall clock",
  equivalent = "both clocks tick at the same rate; telling them apart needs setting the system clock, which no spec may do" }

-- csrc/sse.c and csrc/lsse.c
mutant{ id = "sse-drop-keeps-rest", file = "csrc/sse.c",
  from = [[  p->skipping = 1;
  p->in_line = mid_line;]], to = [[  p->skipping = 0;
  p->in_line = mid_line;]],
  why = "an oversize event is dropped whole, up to its blank line", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-id-never-committed", file = "csrc/sse.c",
  from = [[  if (p->id_pending) { /* swap, so an id is copied only once */]], to = [[  if (0) { /* swap, so an id is copied only once */]],
  why = "an event carries the last event id", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-retry-unclamped", file = "csrc/sse.c",
  from = [[p->retry = r < RETRY_MAX ? r : RETRY_MAX;]], to = [[p->retry = r;]],
  why = "a huge retry is clamped at 2^53 ms", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "sse-comment-unchecked", file = "csrc/sse.c",
  from = [[  if (s[0] == ':') return 0;
]], to = "",
  why = "a comment line is ignored",
  equivalent = "a line starting with ':' has an empty field name, which no field matches, so it is ignored anyway" }
mutant{ id = "sse-joined-line-unchecked", file = "csrc/sse.c",
  from = [[      if (n > p->max_event - p->dlen - p->tlen - p->line.len) {
        p->line.len = 0;
        rc = drop_event(p, SSE_ERR_TOO_LARGE, 0);
      } else if]], to = [[      if]],
  why = "max_event_bytes bounds one event",
  equivalent = "process_line checks the joined line against the same bound before using it; only a copy of one chunk's bytes is made first" }
mutant{ id = "lsse-before-zero", file = "csrc/lsse.c",
  from = [[if (!c->err) { c->err = rc; c->err_at = c->count; }]], to = [[if (!c->err) { c->err = rc; c->err_at = 0; }]],
  why = "feed/each say how many events came before the dropped one", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-before-last-drop", file = "csrc/lsse.c",
  from = [[if (!c->err) { c->err = rc; c->err_at = c->count; }]], to = [[{ c->err = rc; c->err_at = c->count; }]],
  why = "feed/each say how many events came before the first dropped one", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-finish-keeps-stash", file = "csrc/lsse.c",
  from = [[  stash_drop(u);
  sse_finish(&u->p);]], to = [[  sse_finish(&u->p);]],
  why = "finish ends one stream: nothing of it is delivered after", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-reset-keeps-stash", file = "csrc/lsse.c",
  from = [[  stash_drop(u);
  sse_reset(&u->p);]], to = [[  sse_reset(&u->p);]],
  why = "reset gives a fresh parser", specs = { "spec/unit/sse_spec.lua" } }
mutant{ id = "lsse-default-bound", file = "csrc/lsse.c",
  from = [[if (lua_isnoneornil(L, 1)) return SSE_DEFAULT_MAX_EVENT;]], to = [[if (lua_isnoneornil(L, 1)) return 2 * SSE_DEFAULT_MAX_EVENT;]],
  why = "max_event_bytes defaults to 1 MiB", specs = { "spec/unit/sse_spec.lua" } }

-- lua/homie/transport/curl.lua
mutant{ id = "curl-tls-retried", file = "lua/homie/transport/curl.lua",
  from = [[local FINAL = { tls = true, too_large = true }]], to = [[local FINAL = { too_large = true }]],
  why = "a bad certificate is not retried", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "curl-too-large-retried", file = "lua/homie/transport/curl.lua",
  from = [[local FINAL = { tls = true, too_large = true }]], to = [[local FINAL = { tls = true }]],
  why = "a body over max_body is a protocol error; trying again cannot help", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-tls-unnamed", file = "lua/homie/transport/curl.lua",
  from = [[message = (kind == "tls" and "TLS: " or "") .. msg,]], to = [[message = msg,]],
  why = "a TLS failure says so in its message", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "curl-timeout-kind", file = "lua/homie/transport/curl.lua",
  from = [[closed = "connection", timeout = "timeout",]], to = [[closed = "connection", timeout = "connection",]],
  why = "a timeout is err.kind timeout", specs = { "spec/integration/connect_timeout_spec.lua" } }
mutant{ id = "curl-max-body-dropped", file = "lua/homie/transport/curl.lua",
  from = [[o.max_body = stream and 262144 or req.max_body]], to = [[o.max_body = stream and 262144 or nil]],
  why = "max_body bounds an answer", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-expect-100", file = "lua/homie/transport/curl.lua",
  from = [[opts = { headers = { "Expect:" } }]], to = [[opts = { headers = { "X-Homie: 1" } }]],
  why = "a body is sent at once (no 100-continue round trip)", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-insecure-dropped", file = "lua/homie/transport/curl.lua",
  from = [[o.insecure = req.insecure == true]], to = [[o.insecure = false]],
  why = "insecure = true turns verification off", specs = { "spec/integration/tls_hostname_spec.lua" } }
mutant{ id = "curl-header-line-stale", file = "lua/homie/transport/curl.lua",
  from = [[if values[name] ~= value or not lines[name] then]], to = [[if not lines[name] then]],
  why = "each request sends its own header values (a header line is reused only for the same value)",
  specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-header-left-over", file = "lua/homie/transport/curl.lua",
  from = [[  for i = n + 1, #h do h[i] = nil end
]], to = "",
  why = "a request sends none of an earlier request's headers", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-idle-unmarked", file = "lua/homie/transport/curl.lua",
  from = [[sent = true, retryable = true, idle = true }]], to = [[sent = true, retryable = true }]],
  why = "a read with nothing before its deadline is idle, the stream still usable", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-end-not-nil", file = "lua/homie/transport/curl.lua",
  from = [[  if r:error() then return nil, failure(r) end
  return nil
end]], to = [[  if r:error() then return nil, failure(r) end
  return ""
end]],
  why = "read returns nil at the clean end of a body", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "curl-no-curl-timeout", file = "lua/homie/transport/curl.lua",
  from = [[if req.deadline_at and not stream then timeout = math.max(0.001, req.deadline_at - now()) end]], to = [[local _ = stream]],
  why = "deadline_at ends the whole exchange",
  equivalent = "curl_sched's wait ends the call at deadline_at as a sent-marked timeout anyway "
    .. "(spec/integration/curl_transport_spec.lua shows that path); libcurl's timer only doubles it" }

-- lua/homie/transport/curl_sched.lua
mutant{ id = "sched-nested-kill-shallow", file = "lua/homie/transport/curl_sched.lua",
  from = [[if task.child then kill(S, task.child) end]], to = [[local _ = task.child]],
  why = "a task that raises stops the others, with what their own gathers run", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-beside-main-raise-keeps-side", file = "lua/homie/transport/curl_sched.lua",
  from = [[    kill(parent.group.S, group)
]], to = "",
  why = "beside: a main that raises stops its side", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-beside-side-error-lost", file = "lua/homie/transport/curl_sched.lua",
  from = [[  if group.err then error(group.err, 0) end
  return unpack(r, 2, r.n)]], to = [[  return unpack(r, 2, r.n)]],
  why = "beside: a side that raised makes beside raise once main ended (ask's on_event that raises)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-beside-no-join", file = "lua/homie/transport/curl_sched.lua",
  from = [[  if not group.over then
    group.parent = parent
    coroutine.yield(JOIN)
  end]], to = "",
  why = "beside returns once both main and side ended", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-start-with-value", file = "lua/homie/transport/curl_sched.lua",
  from = [[if v == nil then]], to = [[if false then]],
  why = "a gather task starts with no arguments (its first resume is queued with no value, not passed)",
  specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-stale-deadline", file = "lua/homie/transport/curl_sched.lua",
  from = [[if not task.dead and task.multi and task.gen == S.hgen[1] then]], to = [[if not task.dead and task.multi then]],
  why = "a wait lasts until its own deadline (an earlier wait's deadline does not cut it)",
  specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "sched-wake-unready", file = "lua/homie/transport/curl_sched.lua",
  from = [[if task and task.pred(task.r) then wake(S, task, true) end]], to = [[if task then wake(S, task, true) end]],
  why = "inside gather a call returns its whole answer", specs = { "spec/integration/curl_transport_spec.lua" } }
mutant{ id = "sched-foreign-yield", file = "lua/homie/transport/curl_sched.lua",
  from = [[fail(S, task, nil, "yielded outside homie")]], to = [[local _ = fail]],
  why = "a task that yields what no homie wait yields makes gather raise, naming it", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-task-unchecked", file = "lua/homie/transport/curl_sched.lua",
  from = [[if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 3) end]],
  to = [[local _ = fn]],
  why = "bad input gets a clear error naming what was wrong", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-nested-error-lost", file = "lua/homie/transport/curl_sched.lua",
  from = [[    parent.child = nil
    if group.err then error(group.err, 0) end]], to = [[    parent.child = nil]],
  why = "a task that raises makes gather raise (a nested one too)", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-results-by-finish", file = "lua/homie/transport/curl_sched.lua",
  from = [[group.results[task.index] = pack(...)]], to = [[group.results[#group.results + 1] = pack(...)]],
  why = "gather's element i is what task i returned", specs = { "spec/integration/curl_sched_spec.lua" } }
mutant{ id = "sched-sleep-zero-yields", file = "lua/homie/transport/curl_sched.lua",
  from = [[  if seconds <= 0 then return end
]], to = "",
  why = "sleep(seconds <= 0) returns at once", specs = { "spec/integration/curl_sched_spec.lua" } }

-- lua/homie/util.lua
mutant{ id = "util-span-negative", file = "lua/homie/util.lua",
  from = [[if not (v >= 0 and v < math.huge) then]], to = [[if not (v < math.huge) then]],
  why = "a negative span raises naming it", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-span-nan", file = "lua/homie/util.lua",
  from = [[if not (v >= 0 and v < math.huge) then]], to = [[if v < 0 or v == math.huge then]],
  why = "a NaN span raises naming it", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-type-unchecked", file = "lua/homie/util.lua",
  from = [[  if type(v) ~= want then]], to = [[  if false then]],
  why = "a value of the wrong type raises naming it", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-hint-too-far", file = "lua/homie/util.lua",
  from = [[local limit = math.max(1, math.floor(#name / 3))]], to = [[local limit = #name]],
  why = "an unknown option names only a close known one", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-hint-tie", file = "lua/homie/util.lua",
  from = [[(d == best_d and k < best)]], to = [[(d == best_d and k > best)]],
  why = "the hint is the same on every run", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-swap-two-edits", file = "lua/homie/util.lua",
  from = [[d = math.min(d, before[j - 2] + 1)]], to = [[d = math.min(d, before[j - 2] + 2)]],
  why = "a swapped pair (timeuot) is one typo away", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-query-nil-sent", file = "lua/homie/util.lua",
  from = [[if kv[2] ~= nil then parts]], to = [[if true then parts]],
  why = "an absent option is left out of the query", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-query-bare-mark", file = "lua/homie/util.lua",
  from = [[return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""]], to = [[return "?" .. table.concat(parts, "&")]],
  why = "no query without values", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-utc-march-year", file = "lua/homie/util.lua",
  from = [[  if m <= 2 then y = y - 1 end
]], to = "",
  why = "dates (Retry-After, createdAt) are read in UTC, leap days included", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-earliest-later", file = "lua/homie/util.lua",
  from = [[if a and b then return math.min(a, b) end]], to = [[if a and b then return math.max(a, b) end]],
  why = "a deadline bounds a call: the earlier of two wins", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-null-nested-kept", file = "csrc/ljson.c",
  from = [[walk(L, lua_gettop(L), null_idx, depth + 1);]], to = [[(void)depth;]],
  why = "JSON null reads as nil, at any depth", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-text-unchecked", file = "lua/homie/util.lua",
  from = [[if not M.is_utf8(v) then M.fail(name .. " must be valid UTF-8", (level or 1) + 1) end]], to = [[local _ = v]],
  why = "non-UTF-8 text raises", specs = { "spec/unit/util_spec.lua" } }
mutant{ id = "util-opts-nil-refused", file = "lua/homie/util.lua",
  from = [[  if opts == nil then return {} end
]], to = "",
  why = "options tables are optional", specs = { "spec/unit/util_spec.lua" } }

-- lua/homie/message.lua
mutant{ id = "message-offset-sign", file = "lua/homie/message.lua",
  from = [[(sign == "-" and -1 or 1)]], to = [[(sign == "-" and 1 or -1)]],
  why = "createdAt with an offset reads as the same instant", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-fraction-refused", file = "lua/homie/message.lua",
  from = [[  rest = rest:gsub("^%.%d+", "")
]], to = "",
  why = "createdAt with fractions of a second is read", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-lower-z-refused", file = "lua/homie/message.lua",
  from = [[if rest ~= "Z" and rest ~= "z" then]], to = [[if rest ~= "Z" then]],
  why = "createdAt in any ISO-8601 spelling is read", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-space-refused", file = "lua/homie/message.lua",
  from = [[(%d%d)[Tt ](%d%d)]], to = [[(%d%d)T(%d%d)]],
  why = "createdAt in any ISO-8601 spelling is read", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-recovered-unmarked", file = "lua/homie/message.lua",
  from = [[  m.recovered = true
]], to = "",
  why = "a recovered reply says so (reply.recovered)", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-any-type-answer", file = "lua/homie/message.lua",
  from = [[m.type == "answer" and]], to = [[m.type ~= nil and]],
  why = "only an answer is taken as the reply", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-future-stored", file = "lua/homie/message.lua",
  from = [[return at >= since - M.SKEW and at <= (now or os.time()) + M.SKEW]], to = [[return at >= since - M.SKEW]],
  why = "a recovered reply is one stored since the send began (within the clock skew)", specs = { "spec/unit/message_spec.lua" } }
mutant{ id = "message-unreadable-refused", file = "lua/homie/message.lua",
  from = [[  if not at then return true end]], to = [[  if not at then return false end]],
  why = "a message without a readable createdAt is not ruled out", specs = { "spec/unit/message_spec.lua" } }

-- == wire ==
-- lua/homie/transport/http1.lua: the RFC 9112 reader (doc/transport.md "Framing").
local H1SPEC = { "spec/unit/http1_spec.lua" }
mutant{ id = "http1-bare-cr", file = "lua/homie/transport/http1.lua",
  from = [[if find(line, "\r", 1, true) then return nil, "bare CR in "]], to = [[if false then return nil, "bare CR in "]],
  why = "a bare CR in a line is an error", specs = H1SPEC }
mutant{ id = "http1-any-version", file = "lua/homie/transport/http1.lua",
  from = [[if major ~= "1" or (minor ~= "0" and minor ~= "1") then]], to = [[if false then]],
  why = "only HTTP/1.0 and HTTP/1.1 are read", specs = H1SPEC }
mutant{ id = "http1-101-final", file = "lua/homie/transport/http1.lua",
  from = [[if head.status == 101 then]], to = [[if false then]],
  why = "a 101 is a failure", specs = H1SPEC }
mutant{ id = "http1-interim-unbounded", file = "lua/homie/transport/http1.lua",
  from = [[for _ = 0, MAX_INTERIM do]], to = [[for _ = 0, math.huge do]],
  why = "at most 16 interim heads", specs = H1SPEC }
mutant{ id = "http1-te-suffix", file = "lua/homie/transport/http1.lua",
  from = [[if #codings ~= 1 or codings[1] ~= "chunked" then]], to = [[if not te:lower():match("chunked%s*$") then]],
  why = "the codings must be exactly chunked (chunkedchunked is not)", specs = H1SPEC }
mutant{ id = "http1-te-with-cl-pooled", file = "lua/homie/transport/http1.lua",
  from = [[return "chunked", nil, cl ~= nil]], to = [[return "chunked", nil, false]],
  why = "Transfer-Encoding beside Content-Length is never pooled", specs = H1SPEC }
mutant{ id = "http1-proxy-connection", file = "lua/homie/transport/http1.lua",
  from = [[ or has_token(h["proxy-connection"], "close")]], to = "",
  why = "Proxy-Connection: close keeps a connection from the pool", specs = H1SPEC }
mutant{ id = "http1-chunk-junk", file = "lua/homie/transport/http1.lua",
  from = [[if not hex or #digits > 12 or not valid_extensions(ext) then]], to = [[if not hex or #digits > 12 then]],
  why = "only extensions may follow a chunk size", specs = H1SPEC }
mutant{ id = "http1-chunk-crlf", file = "lua/homie/transport/http1.lua",
  from = [[if state == "crlf" and (line and line ~= "" or kind == "protocol") then]], to = [[if false then]],
  why = "the CRLF after chunk data is required", specs = H1SPEC }
mutant{ id = "http1-obs-fold-joined", file = "lua/homie/transport/http1.lua",
  from = [[fields[last] = fields[last] .. " " .. more]], to = [[fields[last] = fields[last] .. more]],
  why = "an obs-fold is replaced by one SP", specs = H1SPEC }
mutant{ id = "http1-ctl-in-value", file = "lua/homie/transport/http1.lua",
  from = [[  if find(value, CTL) then return false end
]], to = "",
  why = "field values carry no control characters", specs = H1SPEC }
mutant{ id = "http1-cl-differing", file = "lua/homie/transport/http1.lua",
  from = [[(n and tonumber(d) ~= n)]], to = [[false]],
  why = "differing Content-Length values are refused", specs = H1SPEC }
mutant{ id = "http1-http10-pooled", file = "lua/homie/transport/http1.lua",
  from = [[if head.minor == 0 then return has_token(h.connection, "keep-alive") end]], to = "",
  why = "HTTP/1.0 without keep-alive is not pooled", specs = H1SPEC }
mutant{ id = "http1-fields-unbounded", file = "lua/homie/transport/http1.lua",
  from = [[if count == MAX_FIELDS then]], to = [[if false then]],
  why = "at most 256 fields in a head", specs = H1SPEC }
mutant{ id = "http1-te-in-http10", file = "lua/homie/transport/http1.lua",
  from = [[if head.minor == 0 then return nil, "transfer-encoding in an HTTP/1.0 response" end]], to = "",
  why = "Transfer-Encoding in HTTP/1.0 is faulty framing", specs = H1SPEC }
mutant{ id = "http1-line-fast-unbounded", file = "lua/homie/transport/http1.lua",
  from = [[local i = find(self.buf, "\n", self.pos, true)
  if i and i - self.pos <= limit then return take(self, i) end]], to = [[local i = find(self.buf, "\n", self.pos, true)
  if i then return take(self, i) end]],
  why = "a line longer than its bound is refused, even when all of it is buffered", specs = H1SPEC }
mutant{ id = "http1-line-one-fill-unbounded", file = "lua/homie/transport/http1.lua",
  from = [[    i = find(self.buf, "\n", self.pos, true)
    if i and i - self.pos <= limit then return take(self, i) end]], to = [[    i = find(self.buf, "\n", self.pos, true)
    if i then return take(self, i) end]],
  why = "a line longer than its bound is refused, even when one read brings all of it", specs = H1SPEC }
mutant{ id = "http1-headers-unsorted", file = "lua/homie/transport/http1.lua",
  from = [[if name > names[m] then break end]], to = [[do break end]],
  why = "header names go out sorted, so the text is reproducible", specs = H1SPEC }
mutant{ id = "http1-scratch-kept", file = "lua/homie/transport/http1.lua",
  from = [[
  clear(out)
]], to = "\n",
  why = "the request text's scratch table lets go of the body (and key) it held", specs = H1SPEC }
-- lua/homie/transport/h1.lua: the exchange.
mutant{ id = "h1-pool-leftover", file = "lua/homie/transport/h1.lua",
  from = [[local reuse = self.keepalive and self.body:done() and self.reader:pending() == 0]],
  to = [[local reuse = self.keepalive and self.body:done()]],
  why = "a connection with unread bytes is never pooled", specs = H1SPEC }
mutant{ id = "h1-connect-past-deadline", file = "lua/homie/transport/h1.lua",
  from = [[if req.deadline_at and req.deadline_at < ends then ends = req.deadline_at end]], to = "",
  why = "the deadline bounds connecting too", specs = H1SPEC }
mutant{ id = "h1-send-twice-pooled", file = "lua/homie/transport/h1.lua",
  from = [[rt:connect(u, req, req.idempotent == false, connect_by)]], to = [[rt:connect(u, req, false, connect_by)]],
  why = "a request that must not go twice gets a fresh connection", specs = H1SPEC }
mutant{ id = "h1-read-unbounded", file = "lua/homie/transport/h1.lua",
  from = [[return ex.conn:receive(ex.until_at)]], to = [[return ex.conn:receive(nil)]],
  why = "every receive ends by the caller's deadline", specs = { "spec/unit/http1_spec.lua", "spec/integration/socket_transport_spec.lua" } }
mutant{ id = "h1-method-unchecked", file = "lua/homie/transport/h1.lua",
  from = [[if type(m) ~= "string" or not m:match("^%u+$") then return false end]], to = "",
  why = "a request's method must be an upper-case word", specs = H1SPEC }
mutant{ id = "h1-max-body-first-piece", file = "lua/homie/transport/h1.lua",
  from = [[if max_body and #data > max_body then return nil, too_large(max_body) end]], to = "",
  why = "a body's first piece counts against max_body too", specs = H1SPEC }
mutant{ id = "h1-max-body-later-pieces", file = "lua/homie/transport/h1.lua",
  from = [[if max_body and size > max_body then return nil, too_large(max_body) end]], to = "",
  why = "every piece of a body counts against max_body", specs = H1SPEC }
mutant{ id = "h1-body-first-piece", file = "lua/homie/transport/h1.lua",
  from = [[if self.body:done() then return data end]], to = [[do return data end]],
  why = "a body arriving in pieces is read whole", specs = H1SPEC }
-- lua/homie/transport/ngx.lua: cosockets by the caller's clock.
mutant{ id = "ngx-full-timeout-per-op", file = "lua/homie/transport/ngx.lua",
  from = [[local left = deadline_at and (deadline_at - ngx.now()) or FOREVER]],
  to = [[local left = deadline_at and 2 or FOREVER]],
  why = "a dripping server cannot stretch a call past its deadline", specs = { "spec/integration/ngx_transport_spec.lua" },
  filter = "dripped", spec_limit = 120 }
mutant{ id = "ngx-fresh-pooled", file = "lua/homie/transport/ngx.lua",
  from = [[poolable = not fresh,]], to = [[poolable = true,]],
  why = "a send's fresh connection is never pooled", specs = { "spec/integration/ngx_transport_spec.lua" },
  filter = "reuses idle", spec_limit = 120 }
mutant{ id = "ngx-follow-up-dropped", file = "lua/homie/transport/ngx.lua",
  from = [[then return data .. more end]], to = [[then return data end]],
  why = "bytes taken by a follow-up read are handed up with the first page", specs = { "spec/integration/ngx_transport_spec.lua" },
  filter = "beyond one cosocket page", spec_limit = 120 }
mutant{ id = "ngx-fresh-options-pooled", file = "lua/homie/transport/ngx.lua",
  from = [[local slot = (verify and 1 or 3) + (fresh and 1 or 0)]], to = [[local slot = verify and 1 or 3]],
  why = "a send's fresh connection is never taken from a pool", specs = { "spec/integration/ngx_transport_spec.lua" },
  filter = "reuses idle", spec_limit = 120 }
local TLS_RESUME = { "spec/integration/tls_resume_spec.lua" }
mutant{ id = "ngx-tls-no-resume", file = "lua/homie/transport/ngx.lua",
  from = [[session, herr = handshake(sock, origin and sessions[origin], u.host, verify)]],
  to = [[session, herr = handshake(sock, nil, u.host, verify)]],
  why = "a send's fresh connection resumes the origin's TLS session", specs = TLS_RESUME }
mutant{ id = "ngx-tls13-no-collect", file = "lua/homie/transport/ngx.lua",
  from = [[if self.origin then collect(self) end]], to = [[if false then collect(self) end]],
  why = "TLS 1.3 sessions are taken after the ticket arrives, so they resume", specs = TLS_RESUME }
mutant{ id = "ngx-tls-session-any-location", file = "lua/homie/transport/ngx.lua",
  from = [[local origin = scope and (scope .. "|" .. u.host]], to = [[local origin = scope and ("|" .. u.host]],
  why = "a session is never resumed where another CA is trusted", specs = TLS_RESUME }

-- == relay ==
-- homie.ngx (doc/openresty.md, "Security"), redaction, the emulator's control API.
local RELAY_OUT, RELAY_TOK = { "spec/integration/ngx_relay_outcomes_spec.lua" }, { "spec/integration/ngx_relay_token_spec.lua" }
local RELAY_WRITE = { "spec/integration/ngx_relay_writer_spec.lua" }
mutant{ id = "relay-204-crash", file = "lua/homie/ngx.lua",
  from = [[  if opened == nil and err == nil then  -- a 204: the chat has nothing to stream]],
  to = [[  if false then]],
  why = "a 204 upstream is the browser's 204, never a crash", specs = RELAY_OUT }
mutant{ id = "relay-404-502", file = "lua/homie/ngx.lua",
  from = [[elseif type(err) == "table" and err.kind == "not_found" then]],
  to = [[elseif false then]],
  why = "a chat the API does not know is the shopper's 404", specs = RELAY_OUT }
mutant{ id = "relay-transient-502", file = "lua/homie/ngx.lua",
  from = [[  elseif err == "timeout" or (type(err) == "table" and err.retryable) then]],
  to = [[  elseif false then]],
  why = "a failure that may pass tells the EventSource to retry", specs = RELAY_OUT }
mutant{ id = "relay-log-unescaped", file = "lua/homie/ngx.lua",
  from = [[return (s:gsub("[%z\1-\31\127\\]", function(c) return ("\\x%02x"):format(c:byte()) end))]],
  to = [[return s]],
  why = "upstream text never forges an error.log line", specs = RELAY_OUT }
mutant{ id = "relay-bare-cr", file = "lua/homie/ngx.lua",
  from = [[  data = data:gsub("\r\n?", "\n")]], to = [[  data = data:gsub("\r\n", "\n")]],
  why = "a bare CR in data starts a new data: line, never a field", specs = RELAY_WRITE }
mutant{ id = "relay-id-uncleaned", file = "lua/homie/ngx.lua",
  from = [[if has_break(v) or find(v, "\0", 1, true) then]], to = [[if false then]],
  why = "ids and types lose their line breaks", specs = RELAY_WRITE }
mutant{ id = "relay-filter-unprotected", file = "lua/homie/ngx.lua",
  from = [[  local ok, out = pcall(filter, ev)]], to = [[  local ok, out = true, filter(ev)]],
  why = "a filter that raises ends the relay with a log line", specs = RELAY_WRITE }
mutant{ id = "relay-eager-decode", file = "lua/homie/ngx.lua",
  from = [[wire(out, fev, fev == ev and rawget(ev, "data") == nil)]],
  to = [[wire(out, fev, false)]],
  why = "an event a filter did not read is forwarded as it came", specs = RELAY_WRITE }
mutant{ id = "relay-token-any-purpose", file = "lua/homie/ngx.lua",
  from = [[if p ~= purpose then return false, "token is for " .. p .. ", not " .. purpose end]],
  to = [[purpose = p]],
  why = "a verifier accepts only its own purpose", specs = RELAY_TOK }
mutant{ id = "relay-token-no-max-life", file = "lua/homie/ngx.lua",
  from = [[if exp > now + MAX_TTL then return false, "token lives longer than 7 days" end]], to = [[local _ = exp]],
  why = "a token living more than 7 days is refused", specs = RELAY_TOK }
mutant{ id = "relay-ttl-unbounded", file = "lua/homie/ngx.lua",
  from = [[not (ttl >= 1 and ttl <= MAX_TTL)]], to = [[not (ttl >= 1)]],
  why = "chat_token refuses a ttl over 7 days", specs = RELAY_TOK }
mutant{ id = "relay-short-secret", file = "lua/homie/ngx.lua",
  from = [[if type(s) ~= "string" or #s < MIN_SECRET then]], to = [[if type(s) ~= "string" then]],
  why = "secrets shorter than 32 bytes are refused everywhere", specs = RELAY_TOK }
mutant{ id = "relay-rotation-first-only", file = "lua/homie/ngx.lua",
  from = [[  for _, secret in ipairs(secrets) do]], to = [[  for _, secret in ipairs({ secrets[1] }) do]],
  why = "every listed secret verifies", specs = RELAY_TOK }
mutant{ id = "relay-mac-prefix", file = "lua/homie/ngx.lua",
  from = [[if ngx.hmac_sha1(secret, mac) == ngx.hmac_sha1(secret, want) then ok = true end]],
  to = [[if mac:sub(1, 26) == want:sub(1, 26) then ok = true end]],
  why = "a lengthened signature, or one with its spare bits set, is refused", specs = RELAY_TOK }
mutant{ id = "relay-authorize-truthy", file = "lua/homie/ngx.lua",
  from = [[if answer ~= true then return false, "not authorized" end]], to = [[if not answer then return false, "not authorized" end]],
  why = "authorize allows only on exactly true", specs = RELAY_TOK }
mutant{ id = "relay-cookie-lax", file = "lua/homie/ngx.lua",
  from = [[; HttpOnly; SameSite=Strict%s"]], to = [[; SameSite=Lax%s"]],
  why = "the token cookie is HttpOnly and SameSite=Strict", specs = RELAY_TOK }
mutant{ id = "redact-case-sensitive", file = "lua/homie/errors.lua",
  from = [[if c:find("%a") then return "[" .. c:lower() .. c:upper() .. "]" end]], to = [[if c:find("%a") then return c end]],
  why = "the key never shows, in any case", specs = { "spec/integration/redaction_spec.lua" } }
mutant{ id = "redact-keys-kept", file = "lua/homie/errors.lua",
  from = [[        if k2 ~= k then renamed[k] = k2 end]], to = [[        local _ = k2]],
  why = "the key never shows as a JSON object key", specs = { "spec/integration/redaction_spec.lua" } }
mutant{ id = "mock-control-any-host", file = "server/lua/homie_mock/control.lua",
  from = [[  if not loopback_host(ngx.var.http_host) then]], to = [[  if false then]],
  why = "the control API answers only a loopback Host", specs = { "server/spec/emulator_control_spec.lua" } }
mutant{ id = "mock-control-text-plain", file = "server/lua/homie_mock/control.lua",
  from = [[  if method == "POST" and not json_type(ngx.var.http_content_type) then]], to = [[  if false then]],
  why = "a cross-site text/plain POST queues no fault", specs = { "server/spec/emulator_control_spec.lua" } }

-- == cli ==
-- bin/homie (lua/homie/cli/*) and the emulator's replies (issue 19).
local CLI = { "spec/integration/cli_spec.lua" }
local REPLIES = { "server/spec/emulator_replies_spec.lua" }
mutant{ id = "cli-ctrl-c-ignored", file = "lua/homie/cli/session.lua",
  from = [[if guard and guard:interrupted() then error(CANCELLED, 0) end]], to = [[local _ = guard]],
  why = "Ctrl-C during an answer cancels that answer", specs = CLI, filter = "Ctrl%-C during an answer" }
mutant{ id = "cli-ctrl-c-signal", file = "lua/homie/cli/term.lua",
  from = [[stty("-isig -icanon -echo min 0 time 0")]], to = [[stty("-icanon -echo min 0 time 0")]],
  why = "Ctrl-C during an answer returns to the prompt (the session goes on)", specs = CLI,
  filter = "Ctrl%-C during an answer" }
mutant{ id = "cli-unwrapped", file = "lua/homie/cli/context.lua",
  from = [[if self.width == nil and self.tty then self.width = term.columns(getenv) end]], to = [[local _ = term]],
  why = "output is wrapped to the terminal's width", specs = CLI, filter = "60%-column" }
mutant{ id = "cli-wrap-mid-word", file = "lua/homie/cli/wrap.lua",
  from = [[if self.col > self.indent and self.col + gap + w > self.width then]], to = [[if false then]],
  why = "at 60 columns nothing breaks mid-word", specs = CLI, filter = "60%-column" }
mutant{ id = "cli-url-inline", file = "lua/homie/cli/render.lua",
  from = [[  if fits then]], to = [[  if true then]],
  why = "a product's URL goes on its own line when the row does not fit", specs = CLI, filter = "60%-column" }
mutant{ id = "cli-status-to-pipe", file = "lua/homie/cli/session.lua",
  from = [[if view.text or not tty then return end]], to = [[if view.text then return end]],
  why = "transient status lines never reach a pipe", specs = CLI, filter = "from a pipe" }
mutant{ id = "cli-no-default-page", file = "lua/homie/cli/session.lua",
  from = [[page = opts.url or ctx.DEFAULT_PAGE,]], to = [[page = opts.url,]],
  why = "a first question works without --url", specs = CLI, filter = "from a pipe" }
mutant{ id = "cli-suggestion-out-of-range", file = "lua/homie/cli/session.lua",
  from = [[if n then line = self:suggestion(n) or "" end]], to = [[if n then line = self:suggestion(n) or line end]],
  why = "an out-of-range suggestion number sends nothing", specs = CLI, filter = "streams the answer" }
mutant{ id = "cli-send-dash-literal", file = "lua/homie/cli/commands.lua",
  from = [[if text == "-" then text =]], to = [[if text == "--" then text =]],
  why = "send - reads the message from stdin", specs = CLI, filter = "send %- reads" }
mutant{ id = "cli-send-validates-late", file = "lua/homie/cli/commands.lua",
  from = [[  local text = message_text(ctx, rest[1])
  local chat, created = ctx:open_chat(opts.chat)]], to = [[  local chat, created = ctx:open_chat(opts.chat)
  local text = message_text(ctx, rest[1])]],
  why = "nothing is created before the message is validated", specs = CLI, filter = "send %- reads" }
mutant{ id = "cli-mock-key-on-command-line", file = "lua/homie/cli/mock.lua",
  from = [["exec setsid %s --port %d 2>&1 </dev/null"]], to = [["exec setsid %s --port %d --api-key $k 2>&1 </dev/null"]],
  why = "--mock never puts a key on a command line", specs = CLI, filter = "key of its own" }
mutant{ id = "cli-homie-log-ignored", file = "lua/homie/cli/context.lua",
  from = [[if o.verbose or env_value(getenv, "HOMIE_LOG") == "debug" then]], to = [[if o.verbose then]],
  why = "HOMIE_LOG=debug logs like --verbose", specs = CLI, filter = "%-%-verbose" }
mutant{ id = "cli-events-silent", file = "lua/homie/cli/commands.lua",
  from = [[if opened then ctx:note("homie: connected, following chat " .. rest[1] .. " (Ctrl-C stops)") end]],
  to = [[local _ = opened]],
  why = "events says when it is connected", specs = CLI, filter = "status 130" }
mutant{ id = "cli-no-recall", file = "lua/homie/cli/input.lua",
  from = [[if line and line:find("%S") then RL.add_history(line) end]], to = [[local _ = RL]],
  why = "the prompt recalls this session's lines", specs = CLI, filter = "edits the line" }
mutant{ id = "cli-history-mock-allowed", file = "lua/homie/cli/commands.lua",
  from = [[  no_mock(opts, "history")
]], to = "",
  why = "history --mock says what to do instead", specs = CLI, filter = "refuse %-%-mock" }
mutant{ id = "replies-no-chat-subject", file = "server/lua/homie_mock/replies.lua",
  from = [[local subject = in_discussion(last_gtin, current_url)]], to = [[local subject = in_discussion(nil, current_url)]],
  why = "a follow-up is about the product the chat showed last", specs = REPLIES }
mutant{ id = "replies-no-follow-up", file = "server/lua/homie_mock/replies.lua",
  from = [[local products, content = follow_up(set, subject)]], to = [[local products, content]],
  why = "the emulator's suggestions lead to answers about their product", specs = REPLIES }
mutant{ id = "replies-no-synonyms", file = "server/lua/homie_mock/lexicon.lua",
  from = [==[local keyword = SYNONYMS[w] or SYNONYMS[stem]]==], to = [[local keyword = nil]],
  why = "German and French questions find products", specs = REPLIES }
mutant{ id = "replies-ascii-words", file = "server/lua/homie_mock/lexicon.lua",
  from = [[text:gmatch("[%w\128-\255]+")]], to = [[text:gmatch("%w+")]],
  why = "words with letters beyond ASCII (Größe) are understood", specs = REPLIES }
mutant{ id = "replies-matching-any-colour", file = "server/lua/homie_mock/replies.lua",
  from = [[local prefer = subject and lexicon.topic(set) == "pairing" and subject._keywords[1] or nil]],
  to = [[local prefer = nil]],
  why = "matching jeans for the blue hoodie are the blue ones", specs = REPLIES }


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
  why = "openresty-demo refuses a port another program listens on, naming it", specs = { "spec/integration/openresty_demo_spec.lua" } }
mutant{ id = "check-docs-coverage-off", file = "scripts/check-docs",
  from = [[        elseif not have[item] then]], to = [[        elseif false then]],
  why = "make docs fails on an undocumented public function", specs = { "spec/integration/check_docs_spec.lua" } }
mutant{ id = "check-docs-no-type-anchor", file = "scripts/check-docs",
  from = [[  if fixed ~= s then write(path, fixed) end]], to = [[  fixed = s]],
  why = "links to a type lead to its section", specs = { "spec/integration/check_docs_spec.lua" } }
mutant{ id = "check-docs-anchors-unchecked", file = "scripts/check-docs",
  from = [[      elseif frag ~= "" and not (have and have[frag]) then]], to = [[      elseif false then]],
  why = "make docs fails on a link to an anchor that does not exist", specs = { "spec/integration/check_docs_spec.lua" } }

-- == session ==
-- The session, its clock and policy, the API calls, ask, reconcile, the
-- chat handle, the entry point, transport selection (README: "What bounds
-- each call", "Options of each call", redirects, usage errors).
local UNIT_BOUNDS, UNIT_REDIR = { "spec/unit/bounds_spec.lua" }, { "spec/unit/redirect_spec.lua" }
local UNIT_USAGE = { "spec/unit/usage_errors_spec.lua" }
mutant{ id = "session-redirect-keeps-key", file = "lua/homie/session.lua",
  from = [[  h["x-api-key"], h["Authorization"] = nil, nil]], to = [[  local _ = h]],
  why = "another origin never gets the key", specs = UNIT_REDIR }
mutant{ id = "session-redirect-unbounded", file = "lua/homie/session.lua",
  from = [[if to and hops > M.REDIRECTS then]], to = [[if to and hops > M.REDIRECTS + 3 then]],
  why = "reads follow at most 5 redirects", specs = UNIT_REDIR }
mutant{ id = "session-redirect-send", file = "lua/homie/session.lua",
  from = [[if resp and REDIRECT[resp.status] and o.idempotent then]], to = [[if resp and REDIRECT[resp.status] then]],
  why = "a send or a chat creation never follows a redirect", specs = UNIT_REDIR }
mutant{ id = "session-https-downgrade", file = "lua/homie/session.lua",
  from = [[  if url:match("^https:") and to:match("^http:") then]], to = [[  if false then]],
  why = "https never goes down to http", specs = UNIT_REDIR }
mutant{ id = "session-location-dropped", file = "lua/homie/session.lua",
  from = [[  if REDIRECT[status] then err.location = headers["location"] end]], to = "",
  why = "a send's 3xx error names the Location", specs = UNIT_REDIR }
mutant{ id = "session-expect-nothing", file = "lua/homie/session.lua",
  from = [[if o.expect == "nothing" and (resp.body == "" or resp.status == 204) then]],
  to = [[if false then]],
  why = "a call that expects no body takes a 204 as success", specs = UNIT_BOUNDS }
mutant{ id = "session-per-call-policy", file = "lua/homie/session.lua",
  from = [[  if o.retry then return policy.new(o.retry, self.policy) end]], to = "",
  why = "retry fields per call override the client's policy", specs = UNIT_BOUNDS }
mutant{ id = "session-backoff-past-deadline", file = "lua/homie/session.lua",
  from = [[local give_up = not wait or attempt > max_retries or not b:allows(wait)]],
  to = [[local give_up = not wait or attempt > max_retries]],
  why = "a backoff that would end past the deadline gives up instead", specs = UNIT_BOUNDS }
mutant{ id = "session-on-response-silent", file = "lua/homie/session.lua",
  from = [[  fn({ status = resp and resp.status,]], to = [[  local _ = fn and ({ status = resp and resp.status,]],
  why = "on_response sees every call's answer", specs = { "spec/integration/client_spec.lua" } }
mutant{ id = "clock-attempt-ignores-deadline", file = "lua/homie/clock.lua",
  from = [[return earliest(self.timeout and self.t:now() + self.timeout, self.deadline_at)]],
  to = [[return self.timeout and self.t:now() + self.timeout or self.deadline_at]],
  why = "an attempt never outlives the call's deadline", specs = UNIT_BOUNDS }
mutant{ id = "clock-sleep-uncapped", file = "lua/homie/clock.lua",
  from = [[  if left and left < seconds then seconds = left end]], to = "",
  why = "no wait sleeps past the deadline",
  equivalent = "every caller checks first (the call loop with bounds:allows, reconcile with its give-up "
    .. "time capped at the deadline); the cap is defence in depth" }
mutant{ id = "clock-within-uncapped", file = "lua/homie/clock.lua",
  from = [[return earliest(span and self.t:now() + span, self.deadline_at)]], to = [[return span and self.t:now() + span]],
  why = "ask's final wait ends by its deadline", specs = UNIT_BOUNDS }
mutant{ id = "api-reconcile-unbounded", file = "lua/homie/api.lua",
  from = [[retry = opts.retry, bounds = reads, observe]], to = [[retry = opts.retry, observe]],
  why = "reconcile's reads stay inside the send's deadline", specs = UNIT_BOUNDS }
mutant{ id = "api-currenturl-unchecked", file = "lua/homie/api.lua",
  from = [[  util.check_text("currentUrl", opts.currentUrl)
]], to = "",
  why = "a send or ask without currentUrl raises before any request", specs = UNIT_USAGE }
mutant{ id = "ask-open-unbounded", file = "lua/homie/ask.lua",
  from = [[local open_ok = stream:_open(b:attempt_at())]], to = [[local open_ok = stream:_open(nil)]],
  why = "ask opens its stream within timeout", specs = UNIT_BOUNDS }
mutant{ id = "ask-deadline-ignored", file = "lua/homie/ask.lua",
  from = [[        if b:expired() then return end]], to = "",
  why = "ask's deadline bounds the whole ask",
  equivalent = "the send shares the deadline and sets sent_at by then, and the final-wait check is capped "
    .. "at the deadline; the check keeps the watch from spinning if it ran first at the deadline, an order "
    .. "no scheduler here produces" }
mutant{ id = "stream-pending-dropped", file = "lua/homie/stream.lua",
  from = [[    return "wait"
]], to = [[    conn:close()
    self.pending = nil
    return "retry", self:backoff(), self:error({ kind = "timeout", message = "cut" })
]],
  why = "a connection attempt in flight is resumed by the next read, not repeated", specs = UNIT_BOUNDS }
mutant{ id = "stream-head-caller-deadline", file = "lua/homie/stream.lua",
  from = [[local status, h = conn:head(clock.earliest(p.head_at, deadline_at))]], to = [[local status, h = conn:head(p.head_at)]],
  why = "open(t) and next_event(t) wait t for a stalled connect", specs = UNIT_BOUNDS }
mutant{ id = "stream-id-not-persisted", file = "lua/homie/stream.lua",
  from = [[    if ev.id ~= nil then id, self.saw_id = ev.id, true]], to = [[    if true then id, self.saw_id = ev.id, true]],
  why = "an event's id is the stream's last event id", specs = UNIT_REDIR }
mutant{ id = "stream-redirect-not-followed", file = "lua/homie/stream.lua",
  from = [[    return self:redirected(status, h)]], to = [[    return "fatal", self:error({ kind = "protocol", status = status })]],
  why = "a stream follows redirects", specs = UNIT_REDIR }
mutant{ id = "stream-restart-waits", file = "lua/homie/stream.lua",
  from = [[  self:drop()
  self.reconnect_at = nil
end]], to = [[  self:drop()
  self.reconnect_at = self.session.transport:now() + 5
end]],
  why = "restart reconnects at once", specs = UNIT_REDIR }
mutant{ id = "stream-delay-ignored", file = "lua/homie/stream.lua",
  from = [[if opts.reconnect_delay then self.retry_ms = opts.reconnect_delay * 1000 end]], to = [[local _ = opts.reconnect_delay]],
  why = "reconnect_delay sets the first reconnect wait", specs = UNIT_REDIR }
mutant{ id = "stream-headers-dropped", file = "lua/homie/stream.lua",
  from = [[  for k, v in pairs(self.headers) do more[k] = v end
]], to = "",
  why = "a stream's extra headers are sent", specs = UNIT_REDIR }
mutant{ id = "reconcile-poll-no-doubling", file = "lua/homie/reconcile.lua",
  from = [[    wait = wait * 2]], to = [[    wait = wait * 1]],
  why = "reconcile polls from 0.5 s doubling", specs = { "spec/unit/recover_clock_spec.lua" } }
mutant{ id = "reconcile-any-text", file = "lua/homie/reconcile.lua",
  from = [[q.type == "question" and q.content == text]], to = [[q.type == "question"]],
  why = "reconcile recovers only the answer to the same question", specs = { "spec/unit/recover_clock_spec.lua" } }
mutant{ id = "reconcile-past-deadline", file = "lua/homie/reconcile.lua",
  from = [[local give_up_at = b:cap(session:now() + pol.reconcile_wait)]], to = [[local give_up_at = session:now() + pol.reconcile_wait]],
  why = "reconcile stays inside the send's deadline", specs = UNIT_BOUNDS }
mutant{ id = "chat-ask-no-session", file = "lua/homie/chat.lua",
  from = [[owner[chat], session_of[chat] = client, session]], to = [[owner[chat], session_of[chat] = client, nil]],
  why = "chat:ask works on any chat handle", specs = { "spec/unit/ask_spec.lua" } }
mutant{ id = "chat-dot-call-silent", file = "lua/homie/util.lua",
  from = [[        if not is_self(self) then]], to = [[        if false then]],
  why = "a method called with a dot says to use a colon", specs = UNIT_USAGE }
mutant{ id = "util-fail-wrong-frame", file = "lua/homie/util.lua",
  from = [[if info.what ~= "C" and info.what ~= "tail" and info.source:sub(1, #OURS) ~= OURS then break end]],
  to = [[if info.what ~= "C" then break end]],
  why = "usage errors name the caller's own file and line", specs = UNIT_USAGE }
mutant{ id = "init-is-error-false", file = "lua/homie/init.lua",
  from = [[M.is_error = require("homie.errors").is_error]], to = [[M.is_error = function() return false end]],
  why = "homie.is_error tells an error from any other value", specs = { "spec/unit/errors_spec.lua" } }
mutant{ id = "transport-object-unchecked", file = "lua/homie/transport/init.lua",
  from = [[    if type(choice[m]) ~= "function" then]], to = [[    if false then]],
  why = "a transport object lacking a method is refused, naming it", specs = UNIT_USAGE }
mutant{ id = "transport-default-curl", file = "lua/homie/transport/init.lua",
  from = [[  if type(ngx) == "table" and type(ngx.get_phase) == "function" then return "ngx" end
]], to = "",
  why = "inside nginx the default transport is ngx", specs = { "spec/integration/ngx_client_spec.lua" }, spec_limit = 120 }
mutant{ id = "ngx-phase-any", file = "lua/homie/transport/ngx_phase.lua",
  from = [[  if phase and USABLE[phase] then return end]], to = [[  if phase then return end]],
  why = "a phase without cosockets raises naming it and the way out", specs = { "spec/integration/ngx_transport_spec.lua" },
  spec_limit = 120 }
mutant{ id = "cli-args-unknown-accepted", file = "lua/homie/cli/args.lua",
  from = [[      if not kind then]], to = [[      if not kind and false then]],
  why = "an unknown CLI option is refused, naming the nearest", specs = { "spec/integration/cli_spec.lua" }, spec_limit = 120 }


-- == observe ==
local OBS_UNIT = { "spec/unit/observe_calls_spec.lua" }
local OBS_BOTH = { "spec/unit/observe_calls_spec.lua", "spec/integration/observe_records_spec.lua" }
mutant{ id = "observe-attempt-success-unrecorded", file = "lua/homie/session.lua",
  from = [[if hook then self:emit(hook, attempt_record(req, path, resp, nil, attempt, nil, took)) end]], to = "",
  why = "README Observing calls: a record per HTTP attempt", specs = OBS_BOTH, spec_limit = 120 }
mutant{ id = "observe-attempt-no-retry-in", file = "lua/homie/session.lua",
  from = [[attempt_record(req, path, resp, err, attempt, not give_up and wait or nil, took)]],
  to = [[attempt_record(req, path, resp, err, attempt, nil, took)]],
  why = "doc/observe.md: an attempt record's retry_in is the wait before the next attempt", specs = OBS_UNIT }
mutant{ id = "observe-call-hook-ignored", file = "lua/homie/session.lua",
  from = [[return o and o.observe or self.observe]], to = [[return self.observe]],
  why = "README: a call's observe option replaces the client's for that call", specs = OBS_UNIT }
mutant{ id = "observe-traceparent-unsent", file = "lua/homie/session.lua",
  from = [[headers["traceparent"] = traceparent]], to = [[headers["x-traceparent"] = traceparent]],
  why = "README Traces: traceparent is sent as the W3C header on every attempt", specs = OBS_BOTH,
  spec_limit = 120 }
mutant{ id = "observe-traceparent-unchecked", file = "lua/homie/session.lua",
  from = [[  if not observe.trace_id(v) then]], to = [[  if false then]],
  why = "README: a malformed traceparent raises", specs = OBS_UNIT }
mutant{ id = "observe-on-response-no-durations", file = "lua/homie/session.lua",
  from = [[    if durations then durations[attempt] = took end]], to = "",
  why = "README the raw response: durations holds each attempt's seconds", specs = OBS_UNIT }
mutant{ id = "observe-stream-drop-unrecorded", file = "lua/homie/stream.lua",
  from = [[if self.hook then self:_record("reconnect", why and why.idle and "idle" or "dropped", { retry_in = wait }) end]],
  to = "", why = "doc/observe.md: a stream records each reconnect with its reason", specs = OBS_BOTH,
  spec_limit = 120 }
mutant{ id = "observe-stream-end-twice", file = "lua/homie/stream.lua",
  from = [[if self.hook and self.began_at and not self.recorded_end then]], to = [[if self.hook and self.began_at then]],
  why = "doc/observe.md: a stream records its end once", specs = OBS_UNIT }
mutant{ id = "observe-stream-trace-dropped", file = "lua/homie/stream.lua",
  from = [[session:request("GET", path, nil, true, more, self.call)]], to = [[session:request("GET", path, nil, true, more)]],
  why = "README: a stream sends its traceparent on each reconnect", specs = OBS_BOTH, spec_limit = 120 }
mutant{ id = "observe-ask-first-chunk", file = "lua/homie/ask.lua",
  from = [[not first_chunk and ev.type == "chunk"]], to = [[not first_chunk and ev.type == "typing"]],
  why = "doc/observe.md: first_chunk is the time to the first answer chunk", specs = OBS_UNIT }
mutant{ id = "observe-ask-recovered-false", file = "lua/homie/ask.lua",
  from = [[recovered = reply and reply.recovered == true or false]], to = [[recovered = false]],
  why = "doc/observe.md: an ask record says whether the answer was recovered", specs = OBS_UNIT }
mutant{ id = "observe-ask-options-dropped", file = "lua/homie/ask.lua",
  from = [[local send_opts = api.call_options(opts, { currentUrl = opts.currentUrl, store = opts.store })]],
  to = [[local send_opts = { currentUrl = opts.currentUrl, store = opts.store }]],
  why = "README the raw response: ask's send takes on_response", specs = OBS_UNIT }
mutant{ id = "with-own-transport", file = "lua/homie/session.lua",
  from = [[  setmetatable(d, Session)
]], to = [[  setmetatable(d, Session)
  d.transport = transports.resolve("curl")
]], why = "README: a derived client shares the transport and connection pools", specs = OBS_BOTH,
  spec_limit = 120 }
mutant{ id = "with-original-changed", file = "lua/homie/session.lua",
  from = [[  local d = {}
  for k, v in pairs(self) do d[k] = v end]], to = [[  local d = self]],
  why = "README: client:with leaves the original untouched", specs = OBS_UNIT }
mutant{ id = "cli-verbose-stream-status-silent", file = "lua/homie/stream.lua",
  from = [[  session:log("homie: GET %s -> %d in %.0f ms [request id %s]", path, status, (t:now() - p.sent_at) * 1000,
    tostring(h["x-request-id"]))
]], to = "",
  why = "README/doc/cli.md: --verbose shows each stream connection's status, time and request id",
  specs = { "spec/integration/cli_spec.lua" }, filter = "stream request", spec_limit = 120 }
mutant{ id = "with-key-overridden", file = "lua/homie/session.lua",
  from = [[      if auth then h["x-api-key"] = auth end]], to = "",
  why = "README: a derived client keeps the key (headers cannot replace it)", specs = OBS_UNIT }

-- == metrics ==
-- Relay records (homie.ngx), the incoming trace forwarded inside nginx
-- (Session:trace, ngx_phase.incoming_trace), examples/openresty/metrics.lua.
local RELAY_OBS, TRACE_UNIT = { "spec/integration/ngx_relay_observe_spec.lua" }, { "spec/unit/forward_trace_spec.lua" }
local METRICS = { "spec/integration/openresty_metrics_spec.lua" }
mutant{ id = "relay-record-no-end", file = "lua/homie/ngx.lua",
  from = [[  observed_end(END_REASONS[reason])]], to = [[  local _ = END_REASONS]],
  why = "every relay start has an end record with its reason", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-max-seconds-by-timer", file = "lua/homie/ngx.lua",
  from = [[      if not capped and not deliver(": keep-alive\n\n") then reason = "client closed" end]],
  to = [[      if capped then reason = "max_seconds"
      elseif not deliver(": keep-alive\n\n") then reason = "client closed" end]],
  why = "max_seconds ends by the clock, never by a timer that fired a millisecond early",
  specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-abort-no-end", file = "lua/homie/ngx.lua",
  from = [[    observed_end("browser_gone")
    ngx.exit(499)]], to = [[    ngx.exit(499)]],
  why = "a browser that leaves ends the relay's record (browser_gone)", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-filtered-uncounted", file = "lua/homie/ngx.lua",
  from = [[          n = n + 1
]], to = "",
  why = "the end record counts the events a filter kept", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-one-event-per-read", file = "lua/homie/ngx.lua",
  from = [[relayed = relayed + ev.n]], to = [[relayed = relayed + 1]],
  why = "the end record counts every event sent, several per upstream read", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-no-first-event", file = "lua/homie/ngx.lua",
  from = [[        relayed = relayed + ev.n
        if hook and not first_at then first_at = client:now() end]], to = [[        relayed = relayed + ev.n]],
  why = "the end record has the time to the first event", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-no-client-hook", file = "lua/homie/ngx.lua",
  from = [[return type(session) == "table" and session.observe or nil]], to = [[return nil]],
  why = "without its own observe the relay records to the client's hook", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "relay-record-kindless-error", file = "lua/homie/ngx.lua",
  from = [[return "upstream_error:" .. (type(err) == "table" and tostring(err.kind) or tostring(err))]],
  to = [[return "upstream_error"]],
  why = "an upstream failure's end reason names its kind", specs = RELAY_OBS, spec_limit = 60 }
mutant{ id = "trace-not-forwarded", file = "lua/homie/session.lua",
  from = [[  if self.forward_trace then return ngx_phase.incoming_trace() end
]], to = "",
  why = "inside nginx the incoming traceparent goes on every call", specs = TRACE_UNIT }
mutant{ id = "trace-forward-not-off", file = "lua/homie/session.lua",
  from = [[  if self.forward_trace then return ngx_phase.incoming_trace() end]],
  to = [[  if true then return ngx_phase.incoming_trace() end]],
  why = "forward_trace = false stops the forwarding", specs = TRACE_UNIT }
mutant{ id = "trace-call-option-loses", file = "lua/homie/session.lua",
  from = [[  if o and o.traceparent then return o.traceparent, o.tracestate end]],
  to = [[  if o and o.traceparent and not self.forward_trace then return o.traceparent, o.tracestate end]],
  why = "a call's own traceparent wins over the incoming one", specs = TRACE_UNIT }
mutant{ id = "trace-any-phase", file = "lua/homie/transport/ngx_phase.lua",
  from = [[  if not REQUEST[current()] then return nil end]], to = [[  if not current() then return nil end]],
  why = "a timer forwards no trace (it has no incoming request)", specs = TRACE_UNIT }
mutant{ id = "trace-invalid-forwarded", file = "lua/homie/transport/ngx_phase.lua",
  from = [[  if not observe.trace_id(traceparent) then return nil end]], to = [[  if not traceparent then return nil end]],
  why = "only a valid incoming traceparent is forwarded", specs = TRACE_UNIT }
mutant{ id = "trace-tracestate-unbounded", file = "lua/homie/transport/ngx_phase.lua",
  from = [[#tracestate > MAX_TRACESTATE or ]], to = "",
  why = "a tracestate over 512 bytes is dropped", specs = TRACE_UNIT }
mutant{ id = "metrics-buckets-not-cumulative", file = "examples/openresty/metrics.lua",
  from = [[      add(name .. "_bucket", with_le)
    end]], to = [[      add(name .. "_bucket", with_le)
      break
    end]],
  why = "histogram buckets are cumulative (the metrics example)", specs = METRICS, spec_limit = 120 }
mutant{ id = "metrics-gauge-never-down", file = "examples/openresty/metrics.lua",
  from = [[  add("homie_active_relays", nil, -1)]], to = "",
  why = "homie_active_relays goes down when a relay ends", specs = METRICS, spec_limit = 120 }
mutant{ id = "metrics-status-as-kind", file = "examples/openresty/metrics.lua",
  from = [[r.status or r.kind or "?"]], to = [[r.kind or r.status or "?"]],
  why = "homie_requests_total counts by HTTP status", specs = METRICS, spec_limit = 120 }

-- == relay-speed ==
local SSE_UNIT = { "spec/unit/sse_spec.lua" }
local OUTCOMES = { "spec/integration/ngx_relay_outcomes_spec.lua" }
mutant{ id = "sse-comments-always", file = "csrc/sse.c",
  from = [[if (!p->comments) return 0;]], to = [[if (0) return 0;]],
  why = "comments are ignored unless asked for (the parser's comments option)", specs = SSE_UNIT }
mutant{ id = "sse-comment-with-colon", file = "csrc/sse.c",
  from = [[ev->data = s + 1; ev->data_len = n - 1;]], to = [[ev->data = s; ev->data_len = n;]],
  why = "a comment's text is what follows the ':', as sent", specs = SSE_UNIT }
mutant{ id = "stream-comments-not-parsed", file = "lua/homie/stream.lua",
  from = [[comments = opts.on_comment ~= nil]], to = [[comments = false]],
  why = "on_comment gets each comment in stream order with the events",
  specs = { "spec/unit/stream_clock_spec.lua" } }
mutant{ id = "stream-comment-dropped", file = "lua/homie/stream.lua",
  from = [[      self.on_comment(ev)]], to = "",
  why = "on_comment gets each comment in stream order with the events",
  specs = { "spec/unit/stream_clock_spec.lua" } }
mutant{ id = "wire-data-unsplit", file = "csrc/lsse.c",
  from = [[while ((nl = (const char *)memchr(d, '\n', (size_t)(end - d))) != NULL) {]],
  to = [[while ((nl = NULL) != NULL) {]],
  why = "the relay writes each data line as its own data: line (a writer that cannot be steered)", specs = SSE_UNIT }
mutant{ id = "wire-type-uncleaned", file = "csrc/lsse.c",
  from = [[if (!memchr(v, '\0', vn) && !memchr(v, '\r', vn) && !memchr(v, '\n', vn)) {]], to = [[if (1) {]],
  why = "CR, LF and NUL are removed from a relayed id and type", specs = SSE_UNIT }
mutant{ id = "wire-reset-id-lost", file = "csrc/lsse.c",
  from = [[} else if (c->saw_id) {]], to = [[} else if (0) {]],
  why = "a relayed event carries the stream's last id, reset ones too", specs = SSE_UNIT }
mutant{ id = "wire-after-oversize", file = "csrc/lsse.c",
  from = [[if (rc == SSE_EVENT && !c->err)]], to = [[if (rc == SSE_EVENT)]],
  why = "an event over max_event_bytes ends the relay after the events before it", specs = SSE_UNIT }
mutant{ id = "relay-no-heartbeat-while-opening", file = "lua/homie/ngx.lua",
  from = [[local opened, err = events:open(math.min(heartbeat, open_timeout, opts.max_seconds or heartbeat))]],
  to = [[local opened, err = events:open(math.min(open_timeout, opts.max_seconds or open_timeout))]],
  why = "the relay keeps heartbeating while its upstream connects", specs = OUTCOMES, spec_limit = 60 }
mutant{ id = "h1-head-not-resumable", file = "lua/homie/transport/h1.lua",
  from = [[if f.kind == "timeout" and self.ex.reader.buf == "" then return nil, f end]], to = "",
  why = "a head not begun by the deadline can still be waited for (the relay's heartbeat slices)",
  specs = OUTCOMES, spec_limit = 60 }
mutant{ id = "relay-late-refusal-status", file = "lua/homie/ngx.lua",
  from = [[if not streaming then return refuse(status, why) end]], to = [[do return refuse(status, why) end]],
  why = "a refusal after heartbeats began ends the 200 stream with retry and why", specs = OUTCOMES, spec_limit = 60 }
mutant{ id = "ngx-read-one-page", file = "lua/homie/transport/ngx.lua",
  from = [[  if not data or #data < PAGE then return data, err end]], to = [[  if true then return data, err end]],
  why = "a read on ngx hands up what is already waiting, up to 16 KiB (the relay's throughput)",
  specs = { "spec/integration/ngx_transport_spec.lua" }, filter = "already waiting", spec_limit = 60 }

-- == coordinator ==
mutant{ id = "stream-lost-head-waits", file = "lua/homie/stream.lua",
  from = [[h.kind == "timeout" and not h.lost and deadline_at]], to = [[h.kind == "timeout" and deadline_at]],
  why = "every wait has its bound: open(t) on a stream whose head was cut waits its slice, never spins",
  specs = { "spec/integration/socket_transport_spec.lua" }, filter = "cut by the caller", spec_limit = 60 }

-- == speed ==
local JSON_SPEC = { "spec/unit/json_decode_spec.lua" }
mutant{ id = "json-normalize-unbounded", file = "csrc/ljson.c",
  from = [[if (depth > MAX_DEPTH) luaL_error]], to = [[if (depth < 0) luaL_error]],
  why = "bad input gets a clear error: a table that holds itself raises, never overflows the C stack",
  specs = JSON_SPEC }
mutant{ id = "json-normalize-past-2-53", file = "csrc/ljson.c",
  from = [[n > -LIMIT53 && n < LIMIT53 &&]], to = [[n > -1e300 && n < 1e300 &&]],
  why = "whole numbers below 2^53 are integers, larger ones stay floats", specs = JSON_SPEC }
mutant{ id = "speed-http1-field-memo-ows", file = "lua/homie/transport/http1.lua",
  from = [[    if b ~= 32 and b ~= 9 then break end
    j = j - 1]], to = [[    if true then break end
    j = j - 1]],
  why = "field values lose their trailing whitespace", specs = { "spec/unit/http1_spec.lua" } }
mutant{ id = "speed-bench-row-side", file = "bench/row.lua",
  from = [[(r.better == "higher" and m >= r.target)]], to = [[(r.better == "higher" and m <= r.target)]],
  why = "make bench judges each row on its better side", specs = { "spec/unit/bench_row_spec.lua" } }
mutant{ id = "speed-bench-row-failed-counts", file = "bench/row.lua",
  from = [[  if r.failed then return "MISSED" end]], to = [[  if r.failed then return "-" end]],
  why = "make bench CHECK=1 fails on a workload that could not run", specs = { "spec/unit/bench_row_spec.lua" } }
mutant{ id = "speed-bench-row-floor-meets", file = "bench/row.lua",
  from = [[if r.floor_rounds and not meets(r, median(judged(r, r.floor_rounds))) and]],
  to = [[if r.floor_rounds and]],
  why = "a floor that meets the target excuses nothing: the row stays MISSED", specs = { "spec/unit/bench_row_spec.lua" } }
mutant{ id = "speed-bench-row-floor-near", file = "bench/row.lua",
  from = [[and M.of_floor(r) >= NEAR_FLOOR then]], to = [[then]],
  why = "homie more than 10% under its floor is MISSED, so CHECK=1 catches a regression",
  specs = { "spec/unit/bench_row_spec.lua" } }

-- == mutants: every module ==
-- The modules the lists above left without a mutant (M.roots below makes
-- MUTATE_CHECK fail on any such module from now on): the observation
-- hooks, the emulator's every module and its launcher, bin/homie and the
-- CLI's entry, help and JSON, and the C module's entry point.
local OBSERVE = { "spec/unit/observe_spec.lua" }
local EMU = { "server/spec/emulator_spec.lua" }
local LAUNCHER = { "server/spec/emulator_launcher_spec.lua" }
mutant{ id = "observe-hook-raises", file = "lua/homie/observe.lua",
  from = [[local ok, err = pcall(hook, record)]], to = [[local ok, err = true, hook(record)]],
  why = "an observe hook that raises never breaks the call", specs = OBSERVE }
mutant{ id = "observe-trace-any-length", file = "lua/homie/observe.lua",
  from = [[or #trace ~= 32 or #parent ~= 16]], to = [[or #parent ~= 16]],
  why = "trace_id is 32 hex digits, from a valid traceparent only", specs = OBSERVE }
mutant{ id = "observe-trace-zero-ids", file = "lua/homie/observe.lua",
  from = [[if trace:match("^0+$") or parent:match("^0+$") then return nil end]], to = "",
  why = "an all-zero trace or parent id is no trace (W3C Trace Context)", specs = OBSERVE }
mutant{ id = "observe-trace-version-ff", file = "lua/homie/observe.lua",
  from = [[version == "ff" or ]], to = "",
  why = "traceparent version ff is invalid (W3C Trace Context)", specs = OBSERVE }
mutant{ id = "observe-trace-upper-case", file = "lua/homie/observe.lua",
  from = [[traceparent:lower():match(]], to = [[traceparent:match(]],
  why = "trace_id is lower-case hex whatever the header's case", specs = OBSERVE }
mutant{ id = "observe-route-query-kept", file = "lua/homie/observe.lua",
  from = [[  path = path:gsub("%?.*$", "")
]], to = "",
  why = "a record's route has no query string (one label per endpoint)", specs = OBSERVE }
mutant{ id = "observe-route-id-kept", file = "lua/homie/observe.lua",
  from = [["%1{id}"]], to = [["%0"]],
  why = "a record's route names the chat as {id}, not by its id", specs = OBSERVE }

-- server/lua/homie_mock: the routes and faults of server/README.md.
mutant{ id = "mock-uuid-not-v4", file = "server/lua/homie_mock/util.lua",
  from = [[hex(4) .. "-4" .. hex(3)]], to = [[hex(4) .. "-5" .. hex(3)]],
  why = "chat and message ids are UUID v4", specs = EMU, filter = "every ChatDto field" }
mutant{ id = "mock-org-not-from-key", file = "server/lua/homie_mock/util.lua",
  from = [[local h = ngx.md5(s)]], to = [[local h = ngx.md5(s .. math.random())]],
  why = "organizationId is a UUID derived from the key", specs = EMU, filter = "organizationId from the key" }
mutant{ id = "mock-userid-absent", file = "server/lua/homie_mock/chats.lua",
  from = [[userId = user_id or json.null,]], to = [[userId = user_id,]],
  why = "userId is null when not given", specs = EMU, filter = "userId as null" }
mutant{ id = "mock-chatbot-any-string", file = "server/lua/homie_mock/chats.lua",
  from = [[if not util.is_uuid(body.chatbotId) then]], to = [[if false then]],
  why = "a chatbotId that is no UUID is a 400 naming it", specs = EMU, filter = "400 naming the field" }
mutant{ id = "mock-heartbeat-fixed", file = "server/lua/homie_mock/config.lua",
  from = [[tonumber(os.getenv("HOMIE_MOCK_HEARTBEAT")) or 15]], to = [[15]],
  why = "--heartbeat sets the seconds of silence before a ping", specs = EMU, filter = "sends heartbeats" }
mutant{ id = "mock-first-key-only", file = "server/lua/homie_mock/config.lua",
  from = [[:gmatch("[^\n]+")]], to = [[:gmatch("^[^\n]+")]],
  why = "--api-key repeated accepts every key given", specs = EMU, filter = "accepts several keys" }
mutant{ id = "mock-subject-forgotten", file = "server/lua/homie_mock/conversation.lua",
  from = [[if gtin then dict:set("about:" .. chat_id, gtin) end]], to = "",
  why = "a follow-up is about the product the chat's last answer showed", specs = { "server/spec/emulator_replies_spec.lua" },
  filter = "keeps the subject per chat" }
mutant{ id = "mock-fault-times-ignored", file = "server/lua/homie_mock/faults.lua",
  from = [[      e.times = e.times - 1
]], to = "",
  why = "a fault applies `times` times, then the next in FIFO order", specs = EMU, filter = "times and FIFO" }
mutant{ id = "mock-fault-two-kinds", file = "server/lua/homie_mock/faults.lua",
  from = [[if count_kinds(f) ~= 1 then]], to = [[if count_kinds(f) < 1 then]],
  why = "a fault has exactly one kind; two is a 400", specs = EMU, filter = "rejects an invalid fault" }
mutant{ id = "mock-fault-any-scope", file = "server/lua/homie_mock/faults.lua",
  from = [[(e.scope == "stream") == (is_stream and true or false)]], to = [[true]],
  why = "stream faults act on streams only, body faults on REST only", specs = EMU, filter = "keeps stream faults" }
mutant{ id = "mock-colours-one", file = "server/lua/homie_mock/followups.lua",
  from = [[for i = 1, math.min(#others, 3) do]], to = [[for i = 1, math.min(#others, 1) do]],
  why = "'What other colours does it come in?' shows the other hoodies", specs = { "server/spec/emulator_replies_spec.lua" },
  filter = "follows each suggestion" }
mutant{ id = "mock-hoodie-price", file = "server/lua/homie_mock/catalog.lua",
  from = [[price = 59.99, keywords = { "blue", "hoodie"]], to = [[price = 59.90, keywords = { "blue", "hoodie"]],
  why = "the docs' hoodie question gets the docs' Blue Hoodie (59.99 EUR)", specs = EMU, filter = "docs' hoodie question" }
mutant{ id = "mock-error-no-reason", file = "server/lua/homie_mock/http.lua",
  from = [[error = M.REASONS[status] or "Error"]], to = [[error = "Error"]],
  why = "errors are NestJS bodies: statusCode, message, error (the reason)", specs = EMU, filter = "401 for a missing" }
mutant{ id = "mock-body-limit-raised", file = "server/lua/homie_mock/http.lua",
  from = [[M.MAX_BODY = 64 * 1024]], to = [[M.MAX_BODY = 128 * 1024]],
  why = "a body over 64 KiB is a 413", specs = EMU, filter = "413 over 64 KiB" }
mutant{ id = "mock-truncate-whole", file = "server/lua/homie_mock/http.lua",
  from = [[body = body:sub(1, math.floor(#body / 2))]], to = [[body = body]],
  why = "the truncate fault cuts the JSON, with a correct Content-Length", specs = EMU, filter = "truncates JSON" }
mutant{ id = "mock-empty-array-object", file = "server/lua/homie_mock/json.lua",
  from = [[  if getmetatable(t) == M.array_mt then return true end
]], to = "",
  why = "no match answers products: [] (an array, never {})", specs = EMU, filter = "answers politely" }
mutant{ id = "mock-size-unbounded", file = "server/lua/homie_mock/messages.lua",
  from = [[int_arg("size", 20, 100)]], to = [[int_arg("size", 20)]],
  why = "the history's size is 1..100", specs = EMU, filter = "rejects bad page and size" }
mutant{ id = "mock-next-page-past-end", file = "server/lua/homie_mock/messages.lua",
  from = [[hasNextPage = page < pages,]], to = [[hasNextPage = page <= pages,]],
  why = "the page object's hasNextPage is false on the last page", specs = EMU, filter = "pages the history" }
mutant{ id = "mock-one-chunk", file = "server/lua/homie_mock/messages.lua",
  from = [[if n == 3 then]], to = [[if n == 300 then]],
  why = "an answer streams as chunks of a few words", specs = EMU, filter = "streams the vocabulary" }
mutant{ id = "mock-no-bearer", file = "server/lua/homie_mock/router.lua",
  from = [[auth:match("^[Bb]earer%s+(%S+)%s*$")]], to = [[auth:match("^Token%s+(%S+)%s*$")]],
  why = "Authorization: Bearer KEY is accepted like x-api-key", specs = EMU, filter = "Authorization: Bearer" }
mutant{ id = "mock-405-no-allow", file = "server/lua/homie_mock/router.lua",
  from = [[{ Allow = table.concat(allow, ", ") })]], to = [[nil)]],
  why = "a wrong method is a 405 with Allow", specs = EMU, filter = "405 for a wrong method" }
mutant{ id = "mock-chat-id-unchecked", file = "server/lua/homie_mock/router.lua",
  from = [[if chat_id and not util.is_uuid(chat_id) then]], to = [[if false then]],
  why = "a chat id that is no UUID is a 400 naming chatId", specs = EMU, filter = "validates the body and the chat" }
mutant{ id = "mock-count-by-path", file = "server/lua/homie_mock/router.lua",
  from = [[faults.count_request(method, route and route[2] or "(unmatched)")]], to = [[faults.count_request(method, uri)]],
  why = "the control API counts requests by route (/v1/chats/:id/messages)", specs = EMU,
  filter = "counts requests by route" }
mutant{ id = "mock-chat-of-any-key", file = "server/lua/homie_mock/store.lua",
  from = [[if dict:get("org:" .. id) ~= org then return nil end]], to = "",
  why = "another key's chat is a 404 (its existence not revealed)", specs = EMU,
  filter = "validates the body and the chat" }
mutant{ id = "mock-no-replay", file = "server/lua/homie_mock/stream.lua",
  from = [[next_id = math.min(resume + 1, next_id)]], to = [[next_id = next_id + 0]],
  why = "a stream with Last-Event-ID replays what came after it", specs = EMU, filter = "replays after Last" }
mutant{ id = "mock-no-heartbeat", file = "server/lua/homie_mock/stream.lua",
  from = [[ngx.print(": ping\n\n")]], to = [[ngx.print("")]],
  why = "a silent stream gets a : ping every --heartbeat seconds", specs = EMU, filter = "sends heartbeats" }
mutant{ id = "mock-cut-ignored", file = "server/lua/homie_mock/stream.lua",
  from = [[if fault and fault.cut_after and sent >= fault.cut_after then]], to = [[if false then]],
  why = "cut_after drops a stream after N events", specs = EMU, filter = "cuts a stream" }
mutant{ id = "launcher-prefix-kept", file = "bin/homie-mock",
  from = [[  rm -rf "$prefix"
]], to = "",
  why = "on SIGINT/SIGTERM the launcher deletes its prefix", specs = EMU, filter = "stops cleanly" }
mutant{ id = "launcher-second-signal", file = "bin/homie-mock",
  from = [[  trap '' INT TERM
]], to = "",
  why = "a second signal during shutdown is ignored, so the prefix is still removed", specs = LAUNCHER,
  filter = "second signal", spec_limit = 120 }
mutant{ id = "launcher-tls-without-h2", file = "bin/homie-mock",
  from = [[[ $tls_self = 1 ] && [ $http2 = 1 ] && listen="$listen http2"]], to = [[:]],
  why = "--tls offers h2", specs = { "server/spec/emulator_tls_spec.lua" }, filter = "over h2" }
mutant{ id = "launcher-tls-cert-unprinted", file = "bin/homie-mock",
  from = [=[[ $tls_self = 1 ] && echo "homie-mock CA file: $tls_cert"]=], to = [[:]],
  why = "--tls prints its certificate's path", specs = { "server/spec/emulator_tls_spec.lua" } }
mutant{ id = "launcher-few-connections", file = "bin/homie-mock",
  from = [[-gt 16384 ] && worker_connections=16384]], to = [[-gt 1024 ] && worker_connections=1024]],
  why = "worker_connections is the open-file limit minus 100, at most 16384", specs = LAUNCHER,
  filter = "worker_connections" }

-- bin/homie and its entry, help and JSON (doc/cli.md).
mutant{ id = "cli-bin-own-modules-missed", file = "bin/homie",
  from = [[package.cpath = root .. "/?.so;" .. package.cpath]], to = [[package.cpath = package.cpath]],
  why = "bin/homie runs straight from a checkout (after make), from any directory", specs = CLI,
  filter = "any directory", spec_limit = 120 }
mutant{ id = "cli-exit-not-per-kind", file = "lua/homie/cli/main.lua",
  from = [[return EXIT[err.kind] or EXIT.internal]], to = [[return EXIT.internal]],
  why = "each error kind has its own exit status", specs = CLI, filter = "status per kind", spec_limit = 120 }
mutant{ id = "cli-usage-error-internal", file = "lua/homie/cli/main.lua",
  from = [[elseif args.is_usage_error(result) then]], to = [[elseif false then]],
  why = "usage mistakes exit 2 and name what was wrong", specs = CLI, filter = "usage mistakes", spec_limit = 120 }
mutant{ id = "cli-exit-not-found", file = "lua/homie/cli/usage.lua",
  from = [[not_found = 7]], to = [[not_found = 8]],
  why = "a chat that does not exist exits 7 (doc/cli.md's table)", specs = CLI, filter = "status per kind",
  spec_limit = 120 }
mutant{ id = "cli-help-no-common", file = "lua/homie/cli/usage.lua",
  from = [[if command and M.TEXT[command] and command ~= "mock" then t = t .. "\n" .. COMMON end]], to = "",
  why = "every command's --help lists the connection options", specs = CLI, filter = "every command has",
  spec_limit = 120 }
mutant{ id = "cli-json-empty-array-object", file = "lua/homie/cli/json.lua",
  from = [[if n == 0 then return ARRAYS[key] == true end]], to = [[if n == 0 then return false end]],
  why = "--json writes an empty array as []", specs = CLI, filter = "as text or JSON", spec_limit = 120 }

-- csrc/lsse_module.c: homie.sse's clock.
mutant{ id = "lsse-module-now-ms", file = "csrc/lsse_module.c",
  from = [[lua_pushnumber(L, (lua_Number)homie_now());]], to = [[lua_pushnumber(L, (lua_Number)homie_now() * 1000);]],
  why = "homie.sse.now() counts seconds", specs = { "spec/unit/sse_spec.lua" }, filter = "never goes back" }

return M

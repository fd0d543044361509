-- How bin/homie shows Homie's answers: product cards as an aligned table,
-- numbered suggestions, history lines, tool steps. Functions return strings;
-- the caller writes them. `paint` comes from term.painter.
local term = require "homie.cli.term"
local wrap = require "homie.cli.wrap"

local M = {}

local clean, pad = term.clean, term.pad

-- "searching products…" for the emulator's product_search, else the tool's
-- name in words.
local STEPS = { product_search = "searching products" }
function M.step(tool_name)
  local name = clean(tool_name or "")
  return (STEPS[name] or ("using " .. (name:gsub("_", " ")))) .. "…"
end

local function price(p)
  if type(p.price) == "number" then
    local s = ("%.2f"):format(p.price)
    if p.currency then s = s .. " " .. clean(p.currency) end
    return s
  end
  return p.priceInfo and clean(p.priceInfo) or "-"
end

local function stock(p)
  local a = type(p.availability) == "table" and p.availability or {}
  if a.status == nil then return "-" end
  local s = clean(a.status):gsub("_", " ")
  if type(a.quantity) == "number" and a.quantity > 0 then s = s .. (" (%d)"):format(a.quantity) end
  return s
end

-- The rows of the product table (name, price, stock, URL), unpainted.
function M.product_rows(products)
  local rows = {}
  for _, p in ipairs(products or {}) do
    if type(p) == "table" then
      rows[#rows + 1] = { clean(p.designation or p.brand or p.gtin or "?"), price(p), stock(p),
        clean(p.url or p.uri or "") }
    end
  end
  return rows
end

-- The product table: a header and one line per product, columns aligned,
-- prices right-aligned. Wider than `width` (the terminal's, nil: no limit),
-- each URL goes on its own line under its product, and a row still too wide
-- is wrapped between words. "" when there are no products.
function M.products(products, paint, width)
  local rows = M.product_rows(products)
  if #rows == 0 then return "" end
  local header = { "product", "price", "stock", "url" }
  local widths = {}
  for c = 1, 4 do
    widths[c] = term.width(header[c])
    for _, r in ipairs(rows) do widths[c] = math.max(widths[c], term.width(r[c])) end
  end
  local function line(r, upto)
    local cells = { pad(r[1], widths[1]), pad(r[2], widths[2], true), pad(r[3], widths[3]), r[4] }
    return (("  " .. table.concat(cells, "  ", 1, upto)):gsub("%s+$", ""))
  end
  local fits = true
  for _, r in ipairs(rows) do fits = fits and (not width or term.width(line(r)) <= width) end
  local out = {}
  if fits then
    out[1] = paint("dim", line(header))
    for _, r in ipairs(rows) do out[#out + 1] = line(r) end
  else
    out[1] = paint("dim", wrap.text(line(header, 3), width, 0, 4))
    for _, r in ipairs(rows) do
      out[#out + 1] = wrap.text(line(r, 3), width, 0, 4)
      if r[4] ~= "" then out[#out + 1] = "    " .. r[4] end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Suggestions numbered from 1, so the shopper can type the number; long
-- ones wrap under their text.
function M.suggestions(list, paint, width)
  local out = {}
  for i, s in ipairs(list or {}) do
    local number = ("%d."):format(i)
    local text = wrap.text(clean(s), width, 3 + #number, 3 + #number)
    out[#out + 1] = ("  %s %s"):format(paint("cyan", number), text)
  end
  return #out > 0 and (table.concat(out, "\n") .. "\n") or ""
end

-- A whole reply: text, products, suggestions.
function M.reply(reply, paint, width)
  return wrap.text(clean(reply.content, true), width) .. "\n" .. M.products(reply.products, paint, width)
    .. M.suggestions(reply.suggestions, paint, width)
end

-- One stored message of a chat's history.
function M.history_line(m, paint, width)
  local who = m.type == "question" and "you" or (m.type == "answer" and "homie" or clean(m.type or "?"))
  local when = m.createdAt and (clean(m.createdAt) .. " ") or ""
  local text = wrap.text(clean(m.content, true), width, term.width(when .. who) + 2, 2)
  return paint("dim", when) .. paint(m.type == "question" and "bold" or "magenta", who) .. ": " .. text .. "\n"
end

-- s without the key, in any letter case, however often it appears.
function M.redact(s, secret)
  if not secret or secret == "" then return s end
  local pattern = secret:gsub("%p", "%%%0"):gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end)
  return (s:gsub(pattern, "[redacted]"))
end

-- The error line: kind, HTTP status and request id, the key never.
function M.error_line(err, secret)
  local mt = getmetatable(err)
  local s = (mt and mt.__tostring) and tostring(err) or ("homie: %s: %s"):format(err.kind, err.message)
  s = M.redact((s:gsub("%s+", " ")), secret)
  if not err.status then s = s:gsub("^homie: ([%w_]+)", "homie: %1 (no HTTP status)") end
  if not err.request_id then s = s .. " [no request id]" end
  return s
end

return M

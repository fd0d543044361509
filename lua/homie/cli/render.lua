-- How bin/homie shows Homie's answers: product cards as an aligned table,
-- numbered suggestions, history lines, tool steps. Functions return strings;
-- the caller writes them. `paint` comes from term.painter.
local term = require "homie.cli.term"

local M = {}

local clean, pad, width = term.clean, term.pad, term.width

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
-- prices right-aligned. "" when there are no products.
function M.products(products, paint)
  local rows = M.product_rows(products)
  if #rows == 0 then return "" end
  local header = { "product", "price", "stock", "url" }
  local widths = {}
  for c = 1, 4 do
    widths[c] = width(header[c])
    for _, r in ipairs(rows) do widths[c] = math.max(widths[c], width(r[c])) end
  end
  local function line(r)
    return (("  %s  %s  %s  %s"):format(pad(r[1], widths[1]), pad(r[2], widths[2], true),
      pad(r[3], widths[3]), r[4]):gsub("%s+$", ""))
  end
  local out = { paint("dim", line(header)) }
  for _, r in ipairs(rows) do out[#out + 1] = line(r) end
  return table.concat(out, "\n") .. "\n"
end

-- Suggestions numbered from 1, so the shopper can type the number.
function M.suggestions(list, paint)
  local out = {}
  for i, s in ipairs(list or {}) do
    out[#out + 1] = ("  %s %s"):format(paint("cyan", ("%d."):format(i)), clean(s))
  end
  return #out > 0 and (table.concat(out, "\n") .. "\n") or ""
end

-- A whole reply: text, products, suggestions.
function M.reply(reply, paint)
  return clean(reply.content, true) .. "\n" .. M.products(reply.products, paint)
    .. M.suggestions(reply.suggestions, paint)
end

-- One stored message of a chat's history.
function M.history_line(m, paint)
  local who = m.type == "question" and paint("bold", "you")
    or paint("magenta", m.type == "answer" and "homie" or clean(m.type or "?"))
  local when = m.createdAt and paint("dim", clean(m.createdAt) .. " ") or ""
  return when .. who .. ": " .. clean(m.content, true) .. "\n"
end

-- The error line: kind, HTTP status and request id, the key never.
function M.error_line(err, secret)
  local mt = getmetatable(err)
  local s = (mt and mt.__tostring) and tostring(err) or ("homie: %s: %s"):format(err.kind, err.message)
  s = s:gsub("%s+", " ")
  if secret and secret ~= "" then
    s = s:gsub(secret:gsub("%p", "%%%0"), "[redacted]")
  end
  if not err.status then s = s:gsub("^homie: ([%w_]+)", "homie: %1 (no HTTP status)") end
  if not err.request_id then s = s .. " [no request id]" end
  return s
end

return M

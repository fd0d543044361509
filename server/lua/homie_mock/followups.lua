-- Answers to follow-up questions about the product in discussion: its
-- sizes, colours, material, what goes with it, returns. Each takes the
-- product and the helpers replies.lua shares (h), and returns the products
-- to show and the text. Plain Lua (no ngx).
local catalog = require "homie_mock.catalog"

local M = {}
local unpack = table.unpack or unpack  -- LuaJIT in nginx, 5.4 in specs

local function same_category(prod)
  local list, seen = {}, { [prod._group or prod.gtin] = true }
  for _, p in ipairs(catalog) do
    local key = p._group or p.gtin
    if p.category == prod.category and not seen[key] then
      seen[key] = true
      list[#list + 1] = p
    end
  end
  return list
end

local function with_prices(list, h)
  local names = {}
  for i, p in ipairs(list) do names[i] = ("the %s (%s)"):format(p.designation, h.money(p)) end
  return h.join(names)
end

local function has_word(prod, word)
  for _, kw in ipairs(prod._keywords) do
    if kw == word then return true end
  end
  return prod.description:lower():find(word, 1, true) ~= nil
end

local function by_slug(slug)
  for _, p in ipairs(catalog) do
    if p._slug == slug then return p end
  end
end

function M.size(prod, h)
  if not prod._group then
    return { prod }, ("The %s runs true to size. If you are between two sizes, take the larger one. %s")
      :format(prod.designation, prod.recommendationText)
  end
  local sizes, available = {}, {}
  for _, v in ipairs(h.variants(prod._group)) do
    sizes[#sizes + 1] = v._size
    if h.in_stock(v) then available[#available + 1] = v._size end
  end
  return { h.default_variant(prod) }, ("The %s runs true to size and comes in sizes %s; %s are in stock. "
    .. "If you are between two sizes, take the larger one for a relaxed fit.")
    :format(prod.designation, h.join(sizes), h.join(available))
end

function M.colour(prod, h)
  local others = same_category(prod)
  local colour = prod._keywords[1]
  if #others == 0 then
    return { prod }, ("The %s comes in %s only."):format(prod.designation, colour)
  end
  local shown = { prod }
  for i = 1, math.min(#others, 3) do shown[#shown + 1] = others[i] end
  return shown, ("The %s comes in %s only. In other colours we have %s.")
    :format(prod.designation, colour, with_prices({ unpack(shown, 2) }, h))
end

function M.fits(prod, h)
  local list = { prod }
  for _, p in ipairs(same_category(prod)) do list[#list + 1] = p end
  return list, ("Besides the %s we have %s."):format(prod.designation, with_prices({ unpack(list, 2) }, h))
end

function M.material(prod)
  return { prod }, ("About the %s: %s %s"):format(prod.designation, prod.description, prod.recommendationText)
end

function M.waterproof(prod, h)
  if has_word(prod, "waterproof") then
    return { prod }, ("Yes, the %s is waterproof: %s"):format(prod.designation, prod.description)
  end
  local rain = by_slug("waterproof-rain-jacket")
  return { prod, rain }, ("No, the %s is not waterproof. For wet days, the %s (%s) keeps you dry.")
    :format(prod.designation, rain.designation, h.money(rain))
end

function M.warm(prod, h)
  if has_word(prod, "winter") or has_word(prod, "warm") or has_word(prod, "wool") then
    return { prod }, ("Yes, the %s is made for cold days: %s"):format(prod.designation, prod.description)
  end
  local puffer = by_slug("black-puffer-jacket")
  return { prod, puffer }, ("The %s is better for milder days. For winter, the %s (%s) is our warmest.")
    :format(prod.designation, puffer.designation, h.money(puffer))
end

function M.gift(prod, h)
  return { prod }, ("The %s makes a lovely gift at %s, and we gift-wrap it for free. %s")
    :format(prod.designation, h.money(prod), prod.recommendationText)
end

function M.returns(prod)
  return { prod }, ("Yes: you can return the %s within 30 days, unworn and with its tags, for a full refund. "
    .. "Exchanges for another size are free."):format(prod.designation)
end

function M.price(prod, h)
  return { prod }, h.describe(prod)
end

-- What goes with it: a product its recommendation names, else one of
-- another category in its colour.
function M.pairing(prod, h)
  for _, p in ipairs(catalog) do
    if p ~= prod and p._group ~= prod._group and prod.recommendationText:find(p.designation, 1, true) then
      p = h.default_variant(p)
      return { p }, ("The %s goes well with the %s (%s). %s")
        :format(prod.designation, p.designation, h.money(p), p.recommendationText)
    end
  end
  for _, p in ipairs(catalog) do
    if p.category ~= prod.category and p._keywords[1] == prod._keywords[1] then
      return { p }, ("With the %s, try the %s (%s). %s")
        :format(prod.designation, p.designation, h.money(p), p.recommendationText)
    end
  end
  return { prod }, ("The %s is easy to combine. %s"):format(prod.designation, prod.recommendationText)
end

-- Products on promotion (a "promotion" flag); needs no product in discussion.
function M.sale(h)
  local list = {}
  for _, p in ipairs(catalog) do
    for _, f in ipairs(p.flags) do
      if f.type == "promotion" then list[#list + 1] = p end
    end
  end
  local deals = {}
  for i, p in ipairs(list) do deals[i] = ("the %s (%s: %s)"):format(p.designation, p.flags[#p.flags].title,
    p.flags[#p.flags].text) end
  return list, ("On offer right now: %s."):format(h.join(deals))
end

return M

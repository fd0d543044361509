-- Deterministic reply generator: message + currentUrl + the product the
-- chat last showed -> answer. Keyword scoring over the catalog for a new
-- search; a follow-up without a product word ("How does the sizing run?")
-- answers about the product in discussion. Same input, same output.
-- Pure Lua (no ngx), so it can be unit-tested outside nginx.
local json = require "homie_mock.json"
local catalog = require "homie_mock.catalog"
local lexicon = require "homie_mock.lexicon"
local followups = require "homie_mock.followups"

local M = {}
local unpack = table.unpack or unpack  -- LuaJIT in nginx, 5.4 in specs


local SUGGESTIONS = {
  hoodies = { "What other colours does it come in?", "How does the sizing run?", "Do you have matching jeans?" },
  ["t-shirts"] = { "Is it made of organic cotton?", "Do you have it in other colours?", "What goes well with it?" },
  jeans = { "What fits do you have?", "Can I return them if they don't fit?", "Do you have a matching jacket?" },
  shoes = { "Are they true to size?", "Are they waterproof?", "Do you have them in other colours?" },
  jackets = { "Is it warm enough for winter?", "Is it waterproof?", "What sizes are available?" },
  accessories = { "Does it make a good gift?", "What else goes with it?" },
  none = { "Show me hoodies", "What shoes do you have?", "Do you have anything on sale?" },
}

local function requested_size(msg)
  local lower = msg:lower()
  for _, word in ipairs({ "size", "größe", "groesse", "taille" }) do
    local s = lower:match(word .. "%s+(%w+)")
    if s then return s:upper() end
  end
  return nil
end

local function url_slug(url)
  return type(url) == "string" and url:match("/products/([%w%-]+)") or nil
end

-- The public Product: every field except the "_" matching hints.
local function public(prod)
  local out = {}
  for k, v in pairs(prod) do
    if k:sub(1, 1) ~= "_" then out[k] = v end
  end
  return out
end

local function money(prod)
  return string.format("%.2f %s", prod.price, prod.currency)
end

local function variants(group)
  local list = {}
  for _, prod in ipairs(catalog) do
    if prod._group == group then list[#list + 1] = prod end
  end
  return list
end

local function join(list)
  if #list <= 1 then return list[1] or "" end
  return table.concat(list, ", ", 1, #list - 1) .. " and " .. list[#list]
end

local function in_stock(prod) return prod.availability.quantity > 0 end

-- Scores every product; keeps the best-scoring ones, one per variant group.
local function match(msg, url, prefer)
  local set = lexicon.words(msg)
  local slug = url_slug(url)
  local best, scored = 0, {}
  for i, prod in ipairs(catalog) do
    local score = 0
    for j, kw in ipairs(prod._keywords) do
      -- the last keywords name the product type, and weigh more than colours
      if set[kw] then score = score + (j == 1 and 1 or 2) end
    end
    if slug and prod._slug == slug then score = score + 1.5 end
    -- "matching jeans" for a blue hoodie: the blue ones first
    if score > 0 and prefer and prod._keywords[1] == prefer then score = score + 0.5 end
    if score > 0 then
      scored[#scored + 1] = { prod = prod, score = score, order = i }
      if score > best then best = score end
    end
  end
  local picked, seen = {}, {}
  for _, s in ipairs(scored) do
    local group = s.prod._group or s.prod.gtin
    if s.score == best and not seen[group] then
      seen[group] = true
      picked[#picked + 1] = s.prod
    end
  end
  return picked
end

local function size_answer(prod, size)
  local list = variants(prod._group)
  local sizes, chosen, available = {}, nil, {}
  for _, v in ipairs(list) do
    sizes[#sizes + 1] = v._size
    if v._size == size then chosen = v end
    if in_stock(v) then available[#available + 1] = v._size end
  end
  if chosen and in_stock(chosen) then
    return chosen, string.format("Yes! Size %s is in stock: we have %d of the %s left at %s. %s",
      size, chosen.availability.quantity, chosen.designation, money(chosen), chosen.recommendationText)
  elseif chosen then
    return chosen, string.format("Sorry, size %s of the %s is out of stock right now. Sizes %s are available.",
      size, chosen.designation, join(available))
  end
  local default = nil
  for _, v in ipairs(list) do if v._size == "L" then default = v end end
  return default or list[1], string.format("The %s comes in sizes %s, so size %s is not available. Sizes %s are in stock.",
    prod.designation, join(sizes), size, join(available))
end

local function describe(prod)
  if in_stock(prod) then
    return string.format("The %s by %s costs %s and is in stock (%d available). %s",
      prod.designation, prod.brand, money(prod), prod.availability.quantity, prod.recommendationText)
  end
  return string.format("The %s by %s costs %s but is out of stock at the moment. %s",
    prod.designation, prod.brand, money(prod), prod.recommendationText)
end

-- Picks the default variant of a group when no size is asked: the first in stock.
local function default_variant(prod)
  if not prod._group then return prod end
  for _, v in ipairs(variants(prod._group)) do
    if v._size == "L" and in_stock(v) then return v end
  end
  return prod
end

local WHICH = "Which product do you mean? Ask me about hoodies, t-shirts, jeans, shoes, jackets or accessories."

local helpers = { money = money, join = join, variants = variants, in_stock = in_stock,
  describe = describe, default_variant = default_variant }

local function by_gtin(gtin)
  for _, prod in ipairs(catalog) do
    if prod.gtin == gtin then return prod end
  end
end

-- The product a follow-up is about: the one the chat showed last, else the
-- page's.
local function in_discussion(last_gtin, url)
  local prod = last_gtin and by_gtin(last_gtin)
  if prod then return prod end
  local slug = url_slug(url)
  for _, p in ipairs(catalog) do
    if slug and p._slug == slug then return default_variant(p) end
  end
end

-- A follow-up: a question that names no kind of product but asks about a
-- topic (or says "it"), answered about the product in discussion. Returns
-- products, content, or nil when the question is a new search.
local function follow_up(set, subject)
  if lexicon.names_a_type(set) then return nil end
  local topic = lexicon.topic(set)
  if topic == "sale" then return followups.sale(helpers) end
  if topic and not subject then return {}, WHICH end
  if not subject then return nil end
  if topic then return followups[topic](subject, helpers) end
  if lexicon.refers_back(set) then return { subject }, describe(subject) end
  return nil
end

local function search(message, current_url, set, subject)
  -- "matching jeans" with a blue hoodie in discussion: the blue ones
  local prefer = subject and lexicon.topic(set) == "pairing" and subject._keywords[1] or nil
  local picked = match(message, current_url, prefer)
  local size = requested_size(message)
  local products, content = {}
  if #picked == 0 then
    if set.hi or set.hello or set.hey or set.hallo or set.bonjour then
      content = "Hi there! I'm Homie, your shopping assistant. Ask me about hoodies, t-shirts, jeans, shoes, jackets or accessories."
    else
      content = "I'm sorry, I couldn't find any products matching your question. Could you tell me a bit more about what you're looking for?"
    end
  elseif size and picked[1]._group then
    local chosen
    chosen, content = size_answer(picked[1], size)
    products[1] = chosen
  elseif #picked == 1 then
    products[1] = default_variant(picked[1])
    content = describe(products[1])
  else
    local names = {}
    for i = 1, math.min(#picked, 4) do
      products[i] = default_variant(picked[i])
      names[i] = products[i].designation .. " (" .. money(products[i]) .. ")"
    end
    content = string.format("I found %d products that might suit you: %s. %s",
      #products, join(names), products[1].recommendationText)
  end
  if prefer and products[1] and subject then
    content = ("To go with the %s: %s"):format(subject.designation, content)
  end
  return products, content
end

-- message, the page's URL, and the gtin of the product the chat showed last
-- (nil for a new chat). Returns { content, products (json array),
-- suggestions (json array), query, gtins, subject (the gtin of the product
-- now in discussion, or nil) }.
function M.answer(message, current_url, last_gtin)
  local set = lexicon.words(message)
  local subject = in_discussion(last_gtin, current_url)
  local products, content = follow_up(set, subject)
  if not products then products, content = search(message, current_url, set, subject) end

  local out, gtins = json.array(), json.array()
  for i, prod in ipairs(products) do
    out[i] = public(prod)
    gtins[i] = prod.gtin
  end
  local category = products[1] and products[1].category or "none"
  local query = products[1] and products[1].query or message:lower()
  return {
    content = content,
    products = out,
    suggestions = json.array({ unpack(SUGGESTIONS[category]) }),
    query = query,
    gtins = gtins,
    subject = products[1] and products[1].gtin or last_gtin,
  }
end

return M

-- The product catalog fixture the emulator answers from.
-- Plain data (no ngx) so specs in plain Lua 5.4 can load it too:
--   dofile("server/lua/homie_mock/catalog.lua")
-- Every product carries every Product field of homie-api.md. Fields starting
-- with "_" are matching hints for the reply generator and never sent.
local BASE = "https://store.com"

local STOCK = { in_stock = "In stock", low_stock = "Only a few left", out_of_stock = "Out of stock" }

-- p{slug, gtin, brand, name, category, price, qty, keywords, description, recommendation, extra}
local function p(t)
  local qty = t.qty
  local status = qty == 0 and "out_of_stock" or (qty < 5 and "low_stock" or "in_stock")
  local flags = {
    { type = "availability", title = STOCK[status], text = qty .. " item(s) available" },
  }
  if t.size then
    flags[#flags + 1] = { type = "size", title = "Size", text = t.size }
  end
  if t.flag then flags[#flags + 1] = t.flag end
  return {
    gtin = t.gtin,
    brand = t.brand,
    designation = t.name,
    url = BASE .. "/products/" .. t.slug,
    image = BASE .. "/images/" .. t.slug .. ".png",
    price = t.price,
    priceInfo = string.format("%.2f EUR incl. VAT, free shipping from 50 EUR", t.price),
    currency = "EUR",
    location = {
      { key = "warehouse", value = "Berlin" },
      { key = "aisle", value = t.category },
    },
    availability = { status = status, quantity = qty },
    category = t.category,
    query = t.query or t.name:lower(),
    description = t.description,
    recommendationText = t.recommendation,
    flags = flags,
    _slug = t.slug,
    _keywords = t.keywords,
    _size = t.size,
    _group = t.group,
  }
end

local hoodie = {
  slug = "blue-hoodie", brand = "Homie", name = "Blue Hoodie", category = "hoodies",
  price = 59.99, keywords = { "blue", "hoodie", "sweatshirt", "hooded" }, group = "blue-hoodie",
  description = "Soft brushed-cotton hoodie in ocean blue with a kangaroo pocket.",
  recommendation = "A cosy everyday layer that pairs well with our Slim Fit Blue Jeans.",
}
local function hoodie_size(size, gtin, qty)
  local t = {}
  for k, v in pairs(hoodie) do t[k] = v end
  t.size, t.gtin, t.qty = size, gtin, qty
  t.query = "blue hoodie size " .. size
  return p(t)
end

return {
  -- The blue hoodie in four sizes; size L matches the docs' example reply.
  hoodie_size("S", "1234567890101", 7),
  hoodie_size("M", "1234567890112", 3),
  hoodie_size("L", "1234567890123", 12),
  hoodie_size("XL", "1234567890134", 0),
  p{ slug = "grey-zip-hoodie", gtin = "4006381333931", brand = "Northwind", name = "Grey Zip Hoodie",
     category = "hoodies", price = 64.90, qty = 18, keywords = { "grey", "gray", "zip", "hoodie", "sweatshirt" },
     description = "Heather grey full-zip hoodie with ribbed cuffs.",
     recommendation = "Easy to layer under a jacket on cooler days." },
  p{ slug = "black-oversized-hoodie", gtin = "4006381333948", brand = "UrbanPeak", name = "Black Oversized Hoodie",
     category = "hoodies", price = 69.00, qty = 9, keywords = { "black", "oversized", "hoodie", "sweatshirt" },
     description = "Heavyweight oversized hoodie with dropped shoulders.",
     recommendation = "Our most popular streetwear piece this season." },
  p{ slug = "white-basic-t-shirt", gtin = "4006381333955", brand = "Homie", name = "White Basic T-Shirt",
     category = "t-shirts", price = 19.99, qty = 120, keywords = { "white", "basic", "tshirt", "shirt", "tee" },
     description = "Crew-neck T-shirt in 180 g organic cotton.",
     recommendation = "A wardrobe staple; buy three and save 10%.",
     flag = { type = "promotion", title = "3 for 2", text = "Buy three, pay for two" } },
  p{ slug = "black-graphic-t-shirt", gtin = "4006381333962", brand = "UrbanPeak", name = "Black Graphic T-Shirt",
     category = "t-shirts", price = 29.00, qty = 41, keywords = { "black", "graphic", "print", "tshirt", "shirt", "tee" },
     description = "Black T-shirt with a screen-printed skyline.",
     recommendation = "Looks great with the Relaxed Black Jeans." },
  p{ slug = "green-organic-t-shirt", gtin = "4006381333979", brand = "Evergreen", name = "Green Organic T-Shirt",
     category = "t-shirts", price = 24.50, qty = 4, keywords = { "green", "organic", "tshirt", "shirt", "tee" },
     description = "Forest green T-shirt made from certified organic cotton.",
     recommendation = "Sustainably made and very soft." },
  p{ slug = "striped-breton-t-shirt", gtin = "4006381333986", brand = "Northwind", name = "Striped Breton T-Shirt",
     category = "t-shirts", price = 34.90, qty = 15, keywords = { "striped", "stripes", "breton", "navy", "tshirt", "shirt", "tee" },
     description = "Navy and white striped long-sleeve Breton top.",
     recommendation = "A timeless classic for spring." },
  p{ slug = "slim-fit-blue-jeans", gtin = "4006381333993", brand = "Homie", name = "Slim Fit Blue Jeans",
     category = "jeans", price = 79.99, qty = 22, keywords = { "blue", "slim", "jean", "denim", "trouser", "pant" },
     description = "Mid-rise slim fit jeans in stretch denim.",
     recommendation = "Pairs perfectly with the Blue Hoodie." },
  p{ slug = "relaxed-black-jeans", gtin = "4006381334006", brand = "UrbanPeak", name = "Relaxed Black Jeans",
     category = "jeans", price = 84.00, qty = 11, keywords = { "black", "relaxed", "jean", "denim", "trouser", "pant" },
     description = "Relaxed straight-leg jeans in washed black.",
     recommendation = "Comfortable all day, great with sneakers." },
  p{ slug = "light-wash-straight-jeans", gtin = "4006381334013", brand = "Northwind", name = "Light Wash Straight Jeans",
     category = "jeans", price = 74.50, qty = 0, keywords = { "light", "wash", "straight", "jean", "denim", "trouser", "pant" },
     description = "Vintage light-wash jeans with a straight leg.",
     recommendation = "Back in stock soon; sign up for a restock alert." },
  p{ slug = "white-leather-sneakers", gtin = "4006381334020", brand = "Stride", name = "White Leather Sneakers",
     category = "shoes", price = 99.00, qty = 30, keywords = { "white", "leather", "sneaker", "shoe", "trainer" },
     description = "Minimal white leather sneakers with a cushioned sole.",
     recommendation = "Goes with almost everything in the store." },
  p{ slug = "trail-running-shoes", gtin = "4006381334037", brand = "Stride", name = "Trail Running Shoes",
     category = "shoes", price = 129.95, qty = 6, keywords = { "trail", "running", "run", "sport", "shoe", "trainer" },
     description = "Grippy trail runners with a waterproof upper.",
     recommendation = "Ideal for muddy weekend runs." },
  p{ slug = "brown-chelsea-boots", gtin = "4006381334044", brand = "Heritage", name = "Brown Chelsea Boots",
     category = "shoes", price = 149.00, qty = 2, keywords = { "brown", "chelsea", "boot", "leather", "shoe" },
     description = "Suede Chelsea boots with elastic side panels.",
     recommendation = "A smart-casual favourite for autumn." },
  p{ slug = "canvas-slip-ons", gtin = "4006381334051", brand = "Homie", name = "Canvas Slip-Ons",
     category = "shoes", price = 45.00, qty = 25, keywords = { "canvas", "slip", "summer", "shoe" },
     description = "Lightweight canvas slip-on shoes for summer.",
     recommendation = "Perfect for the beach and city walks." },
  p{ slug = "waterproof-rain-jacket", gtin = "4006381334068", brand = "Northwind", name = "Waterproof Rain Jacket",
     category = "jackets", price = 119.00, qty = 14, keywords = { "rain", "waterproof", "yellow", "jacket", "coat" },
     description = "Taped-seam rain jacket in signal yellow with a packable hood.",
     recommendation = "Keeps you dry without the bulk." },
  p{ slug = "blue-denim-jacket", gtin = "4006381334075", brand = "Homie", name = "Blue Denim Jacket",
     category = "jackets", price = 89.90, qty = 8, keywords = { "blue", "denim", "jacket" },
     description = "Classic mid-blue denim trucker jacket.",
     recommendation = "Layer it over the Blue Hoodie for a double-blue look." },
  p{ slug = "black-puffer-jacket", gtin = "4006381334082", brand = "UrbanPeak", name = "Black Puffer Jacket",
     category = "jackets", price = 159.00, qty = 5, keywords = { "black", "puffer", "winter", "warm", "jacket", "coat" },
     description = "Recycled-down puffer jacket rated to -10 C.",
     recommendation = "Our warmest jacket for winter." },
  p{ slug = "camel-wool-coat", gtin = "4006381334099", brand = "Heritage", name = "Camel Wool Coat",
     category = "jackets", price = 229.00, qty = 3, keywords = { "camel", "wool", "winter", "coat", "jacket" },
     description = "Single-breasted coat in an Italian wool blend.",
     recommendation = "An investment piece that lasts for years." },
  p{ slug = "grey-wool-beanie", gtin = "4006381334105", brand = "Evergreen", name = "Grey Wool Beanie",
     category = "accessories", price = 22.00, qty = 50, keywords = { "grey", "gray", "wool", "beanie", "hat", "winter" },
     description = "Ribbed merino wool beanie.",
     recommendation = "Keeps your head warm on cold days." },
  p{ slug = "blue-baseball-cap", gtin = "4006381334112", brand = "Homie", name = "Blue Baseball Cap",
     category = "accessories", price = 18.50, qty = 33, keywords = { "blue", "cap", "hat", "baseball" },
     description = "Six-panel cotton cap with an embroidered logo.",
     recommendation = "Matches the Blue Hoodie perfectly." },
  p{ slug = "brown-leather-belt", gtin = "4006381334129", brand = "Heritage", name = "Brown Leather Belt",
     category = "accessories", price = 39.00, qty = 19, keywords = { "brown", "leather", "belt" },
     description = "Full-grain leather belt with a brass buckle.",
     recommendation = "Pairs with any of our jeans." },
  p{ slug = "canvas-tote-bag", gtin = "4006381334136", brand = "Evergreen", name = "Canvas Tote Bag",
     category = "accessories", price = 15.00, qty = 64, keywords = { "canvas", "tote", "bag" },
     description = "Heavy canvas tote with an inner pocket.",
     recommendation = "Roomy enough for a laptop and groceries." },
  p{ slug = "cotton-socks-3-pack", gtin = "4006381334143", brand = "Homie", name = "Cotton Socks 3-Pack",
     category = "accessories", price = 12.99, qty = 200, keywords = { "sock", "socks", "cotton" },
     description = "Three pairs of combed-cotton socks.",
     recommendation = "Mix and match with any outfit." },
  p{ slug = "polarized-sunglasses", gtin = "4006381334150", brand = "Stride", name = "Polarized Sunglasses",
     category = "accessories", price = 59.00, qty = 0, keywords = { "sunglasses", "sunglass", "glasses", "sun", "summer" },
     description = "Polarized lenses in a lightweight acetate frame.",
     recommendation = "Back in stock next week." },
}

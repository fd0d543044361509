-- The README's quickstart: create a chat, ask about the blue hoodie, show
-- the answer with its products, then list the chat's history.
-- Talks to HOMIE_BASE_URL (the local emulator in `make demo`), or to the
-- staging API when only HOMIE_API_KEY is set.
local homie = require "homie"

local client = homie.new{
  api_key = os.getenv("HOMIE_API_KEY"),
  environment = "staging",           -- ignored when HOMIE_BASE_URL is set
}

local chat = assert(client:create_chat{
  chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f",
  userId = "1bd2e7c4-8a90-4b17-9f36-6e2b5d8f7a3e",
})
print(("chat %s (organization %s, created %s)"):format(chat.id, chat.organizationId, chat.createdAt))

local question = "Does the blue hoodie come in size L?"
print("\nshopper: " .. question)
local reply = assert(chat:send(question, { currentUrl = "https://store.com/products/blue-hoodie" }))
print("homie:   " .. reply.content)

local function cell(v, width)
  local s = tostring(v == nil and "-" or v)
  if #s > width then s = s:sub(1, width - 1) .. "~" end
  return s .. (" "):rep(width - #s)
end

local products = reply.products or {}
if #products > 0 then
  print(("\n%s %s %s %s"):format(cell("product", 34), cell("price", 10), cell("stock", 14), "url"))
  for _, p in ipairs(products) do
    local price = p.price and ("%.2f %s"):format(p.price, p.currency or "") or nil
    local stock = p.availability and p.availability.status
    if stock and p.availability.quantity then stock = stock .. " (" .. p.availability.quantity .. ")" end
    print(("%s %s %s %s"):format(cell(p.designation, 34), cell(price, 10), cell(stock, 14), p.url or "-"))
  end
end
for _, s in ipairs(reply.suggestions or {}) do print("  try: " .. s) end

print("\nhistory:")
for msg, err in chat:messages() do
  if not msg then error(tostring(err)) end
  print(("  [%s] %s"):format(msg.type, msg.content))
end

-- A reply appearing as Homie writes it: a typing indicator, the tool steps,
-- the text chunk by chunk, then the products. Run with `make live`.
local homie = require "homie"

local client = homie.new{ api_key = os.getenv("HOMIE_API_KEY"), environment = "staging" }
local chat = assert(client:create_chat{ chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f" })
local question = arg[1] or "Does the blue hoodie come in size L?"
io.write("shopper: ", question, "\n")

local typing = false
local reply = assert(chat:ask(question, {
  currentUrl = "https://store.com/products/blue-hoodie",
  on_event = function(ev)
    local d = ev.data
    if ev.type == "typing" and type(d) == "table" then
      if d.typing and not typing then io.write("homie is typing…\n") end
      typing = d.typing
    elseif ev.type == "message" and type(d) == "table" and d.toolName then
      io.write(("  [%s %s] %s\n"):format(d.toolName, d.status or "?", d.content or ""))
      if d.status == "completed" then io.write("homie:   ") end
    elseif ev.type == "chunk" and type(d) == "table" then
      io.write(d.content)
    end
    io.flush()
  end,
}))
io.write("\n")
for _, p in ipairs(reply.products or {}) do
  io.write(("  • %s — %.2f %s (%s)\n"):format(p.designation or "?", p.price or 0, p.currency or "",
    p.availability and p.availability.status or "unknown"))
end

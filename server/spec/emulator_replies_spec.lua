-- The emulator's replies as a shopper meets them, over real sockets: a
-- follow-up stays on the product in discussion (per chat), the emulator's
-- own suggestions lead to sensible answers, German and French questions
-- find what the catalogue has.
--   lua5.4 /usr/bin/busted server/spec/emulator_replies_spec.lua
local cjson = require "cjson"
local mock = require "spec.support.mock"
local fx = require "spec.support.fixtures"

local HOME = "https://store.com/"

describe("the emulator's replies", function()
  local server

  local function call(method, path, body)
    local status, _, data = server:request(method, path, body and cjson.encode(body),
      { ["x-api-key"] = server.api_key })
    return status, cjson.decode(data)
  end

  local function new_chat()
    local status, chat = call("POST", "/v1/chats", { chatbotId = fx.BOT })
    assert.equal(201, status)
    return chat.id
  end

  -- Sends one message; returns the reply and its products' names.
  local function ask(chat_id, text, page)
    local status, reply = call("POST", "/v1/chats/" .. chat_id .. "/messages",
      { message = text, currentUrl = page or HOME })
    assert.equal(201, status)
    local names = {}
    for i, p in ipairs(reply.products) do names[i] = p.designation end
    return reply, names
  end

  setup(function() server = mock.start{} end)
  teardown(function() server:stop() end)

  it("follows each suggestion of the hoodie answer with an answer about the hoodie", function()
    local chat = new_chat()
    local first = ask(chat, fx.HOODIE, fx.PAGE)
    assert.are.same({ "What other colours does it come in?", "How does the sizing run?",
      "Do you have matching jeans?" }, first.suggestions)
    local colours, colour_names = ask(chat, first.suggestions[1], fx.PAGE)
    assert.matches("^The Blue Hoodie comes in blue", colours.content)
    assert.are.same({ "Blue Hoodie", "Grey Zip Hoodie", "Black Oversized Hoodie" }, colour_names)
    local sizing, sizing_names = ask(chat, first.suggestions[2], fx.PAGE)
    assert.matches("^The Blue Hoodie runs true to size and comes in sizes S, M, L and XL", sizing.content)
    assert.are.same({ "Blue Hoodie" }, sizing_names)
    local jeans, jeans_names = ask(chat, first.suggestions[3], fx.PAGE)
    assert.matches("^To go with the Blue Hoodie: The Slim Fit Blue Jeans", jeans.content)
    assert.are.same({ "Slim Fit Blue Jeans" }, jeans_names)
  end)

  it("keeps the subject per chat, not per page: a follow-up is about what this chat showed last", function()
    local chat = new_chat()
    ask(chat, "Do you have black jeans?")
    local returns = ask(chat, "Can I return them if they don't fit?")
    assert.matches("return the Relaxed Black Jeans", returns.content, 1, true)
    local jacket, names = ask(chat, "Do you have a matching jacket?")
    assert.matches("To go with the Relaxed Black Jeans", jacket.content, 1, true)
    assert.are.same({ "Black Puffer Jacket" }, names)
    local warm = ask(chat, jacket.suggestions[1])  -- "Is it warm enough for winter?"
    assert.matches("the Black Puffer Jacket is made for cold days", warm.content, 1, true)
    -- Another chat knows nothing of it, and asks back (no search for "run").
    local other = new_chat()
    local lost, lost_names = ask(other, "How does the sizing run?")
    assert.are.same({}, lost_names)
    assert.matches("^Which product do you mean%?", lost.content)
    local none, none_names = ask(chat, "What is the meaning of life?")
    assert.are.same({}, none_names)
    assert.matches("sorry", none.content)
    -- Without a chat subject, the page's product is in discussion.
    local on_page = ask(new_chat(), "How does the sizing run?", fx.PAGE)
    assert.matches("^The Blue Hoodie runs true to size", on_page.content)
  end)

  it("leads every suggestion it makes to products", function()
    local chat = new_chat()
    local seen = {}
    local queue = { { "What shoes do you have?" }, { "Show me hoodies" }, { "Do you have anything on sale?" },
      { "Do you have a denim jacket?" }, { "Do you have a wool beanie?" }, { "t-shirts" }, { "jeans" } }
    for _, q in ipairs(queue) do
      local reply = ask(chat, q[1])
      for _, s in ipairs(reply.suggestions) do
        if not seen[s] then
          seen[s] = true
          local _, names = ask(chat, s)
          assert.is_true(#names > 0, "no product for the suggestion " .. s)
          ask(chat, q[1])  -- back on the subject the suggestion was made for
        end
      end
    end
  end)

  it("finds products for German and French questions", function()
    local chat = new_chat()
    local _, de = ask(chat, "Haben Sie einen Kapuzenpullover?")
    assert.are.same({ "Blue Hoodie", "Grey Zip Hoodie", "Black Oversized Hoodie" }, de)
    local sizing = ask(chat, "Wie fällt die Größe aus?")
    assert.matches("^The Blue Hoodie runs true to size", sizing.content)
    local size_l = ask(chat, "Gibt es den blauen Kapuzenpullover in Größe L?")
    assert.matches("^Yes! Size L is in stock", size_l.content)
    local _, fr = ask(new_chat(), "Avez-vous un sweat à capuche bleu ?")
    assert.are.same({ "Blue Hoodie" }, fr)
    local _, shoes = ask(new_chat(), "Je cherche des chaussures")
    assert.are.equal(4, #shoes)
    local _, jacke = ask(new_chat(), "Eine schwarze Jacke, bitte")
    assert.are.same({ "Black Puffer Jacket" }, jacke)
  end)
end)

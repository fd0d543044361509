-- The words the emulator's replies understand: a question's words (English,
-- German and French product words mapped to the catalogue's English
-- keywords) and what a follow-up asks about. Plain Lua (no ngx).
local M = {}

-- German and French words for what the catalogue sells, as its keywords.
local SYNONYMS = {
  kapuzenpullover = "hoodie", kapuzenpulli = "hoodie", kapuzensweatshirt = "hoodie", capuche = "hoodie",
  jeanshose = "jean", schuh = "shoe", schuhe = "shoe", chaussure = "shoe", basket = "sneaker",
  turnschuh = "sneaker", turnschuhe = "sneaker", stiefel = "boot", botte = "boot", bottine = "boot",
  jacke = "jacket", veste = "jacket", blouson = "jacket", mantel = "coat", manteau = "coat",
  ["mütze"] = "beanie", bonnet = "beanie", casquette = "cap", ["gürtel"] = "belt", ceinture = "belt",
  tasche = "bag", sac = "bag", socke = "sock", socken = "sock", chaussette = "sock",
  sonnenbrille = "sunglasses", lunette = "sunglasses",
  blau = "blue", blaue = "blue", blauen = "blue", bleu = "blue", schwarz = "black", schwarze = "black",
  noir = "black", noire = "black", grau = "grey", graue = "grey", gris = "grey", ["weiß"] = "white",
  weiss = "white", ["weiße"] = "white", blanc = "white", blanche = "white", ["grün"] = "green", vert = "green",
  braun = "brown", marron = "brown", winterjacke = "winter",
}

-- Words naming a kind of product: a question with one of them is a new
-- search, not a follow-up about the product in discussion.
M.TYPES = {}
for w in ([[hoodie sweatshirt tshirt shirt tee jean denim trouser pant sneaker shoe trainer boot
  jacket coat beanie hat cap belt bag tote sock sunglasses glasses]]):gmatch("%S+") do
  M.TYPES[w] = true
end

-- What a follow-up asks about, by its words (in the three languages). The
-- first topic whose word appears wins, in this order.
M.TOPICS = {
  { "returns", "return returns refund exchange zurückgeben rückgabe umtausch retour retourner rembourser" },
  { "sale", "sale sales discount offer offers promotion angebot rabatt reduziert solde soldes promo" },
  { "fits", "fits passformen coupes" },
  { "size", "size sizes sizing fit large small größe größen groesse passform taille tailles" },
  { "colour", "colour colours color colors colour farbe farben couleur couleurs" },
  { "waterproof", "waterproof rain wasserdicht regen imperméable pluie" },
  { "warm", "warm winter cold chaud hiver kalt" },
  { "gift", "gift present geschenk cadeau" },
  { "material", "material made cotton organic fabric wool stoff baumwolle matière coton tissu" },
  { "pairing", "match matching goes pair pairs wear passt kombinieren assorti porter" },
  { "price", "price cost costs much preis kostet prix coûte" },
}
local TOPIC_OF = {}
for i = #M.TOPICS, 1, -1 do
  for w in M.TOPICS[i][2]:gmatch("%S+") do TOPIC_OF[w] = M.TOPICS[i][1] end
end

-- Pronouns: a question with one and no product word is about the product
-- in discussion.
local PRONOUNS = {}
for w in ("it its they them this that es sie ihn il elle ils elles"):gmatch("%S+") do PRONOUNS[w] = true end

-- The set of a text's words, plural-insensitive ("Hoodies" -> hoodie,
-- "jeans" -> jean), with each foreign product word's keyword added.
-- Letters beyond ASCII (ä, é, ß) are part of words.
function M.words(text)
  local set = {}
  text = text:lower():gsub("t%-shirt", "tshirt")
  for w in text:gmatch("[%w\128-\255]+") do
    local stem = (#w > 3 and w:sub(-1) == "s" and w:sub(-2) ~= "ss") and w:sub(1, -2) or w
    set[w], set[stem] = true, true
    local keyword = SYNONYMS[w] or SYNONYMS[stem]
    if keyword then set[keyword] = true end
  end
  return set
end

-- The topic a question's words ask about, or nil.
function M.topic(set)
  local best, rank = nil, math.huge
  for w in pairs(set) do
    local t = TOPIC_OF[w]
    if t then
      for i, topic in ipairs(M.TOPICS) do
        if topic[1] == t and i < rank then best, rank = t, i end
      end
    end
  end
  return best
end

function M.names_a_type(set)
  for w in pairs(set) do
    if M.TYPES[w] then return true end
  end
  return false
end

function M.refers_back(set)
  for w in pairs(set) do
    if PRONOUNS[w] then return true end
  end
  return false
end

return M

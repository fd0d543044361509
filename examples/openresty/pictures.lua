-- The storefront's product pictures: flat SVG drawings made from the
-- product's slug (its shape from the kind of product, its colour from the
-- colour word), so the demo shows an image for every product of the
-- emulator's catalogue without shipping or fetching any. A real shop serves
-- its own photos here.
local M = {}

local COLOURS = {
  { "light%-wash", "#9fbcdc" }, { "blue", "#2f5c9e" }, { "navy", "#24365e" }, { "grey", "#8d939c" },
  { "black", "#2c2d33" }, { "white", "#f3f1ec" }, { "green", "#3d7a4f" }, { "brown", "#87573a" },
  { "camel", "#c39a67" }, { "rain", "#f0c02f" }, { "canvas", "#d9ceb3" }, { "striped", "#24365e" },
  { "cotton", "#c9d3dd" }, { "sunglasses", "#3a3a3f" },
}

-- Outlines on a 400 x 400 canvas; {F} is the fill colour, {L} the line colour.
local SHAPES = {
  hoodie = [[
<path d="M150 92 Q200 40 250 92 L318 120 Q340 128 346 152 L372 282 L326 296 L300 196 L300 338 L100 338 L100 196 L74 296 L28 282 L54 152 Q60
  128 82 120 Z" fill="{F}" stroke="{L}" stroke-width="4" stroke-linejoin="round"/>
<path d="M150 92 Q200 150 250 92 Q232 128 200 132 Q168 128 150 92 Z" fill="#000" opacity=".18"/>
<path d="M186 128 L184 190 M214 128 L216 190" stroke="{L}" stroke-width="4" stroke-linecap="round"/>
<path d="M138 252 L262 252 L282 320 L118 320 Z" fill="#000" opacity=".10"/>
<path d="M100 322 L300 322" stroke="#000" stroke-width="10" opacity=".12"/>]],
  tshirt = [[
<path d="M152 70 Q200 104 248 70 L330 104 L366 176 L316 198 L300 168 L300 338 L100 338 L100 168 L84 198 L34 176 L70 104 Z" fill="{F}"
  stroke="{L}" stroke-width="4" stroke-linejoin="round"/>
<path d="M152 70 Q200 118 248 70" fill="none" stroke="{L}" stroke-width="6"/>]],
  jeans = [[
<path d="M124 54 L276 54 L300 346 L222 346 L200 150 L178 346 L100 346 Z" fill="{F}" stroke="{L}" stroke-width="4" stroke-linejoin="round"/>
<path d="M124 80 L276 80 M200 80 L200 150 M140 96 Q160 120 186 98 M260 96 Q240 120 214 98" fill="none" stroke="{L}" stroke-width="3"/>]],
  shoe = [[
<path d="M40 268 Q44 190 96 170 L170 150 Q198 188 246 196 L330 214 Q368 224 366 268 Z" fill="{F}" stroke="{L}" stroke-width="4"
  stroke-linejoin="round"/>
<path d="M36 268 L370 268 L366 292 Q200 304 40 292 Z" fill="#f7f6f2" stroke="{L}" stroke-width="4"/>
<path d="M150 176 L170 206 M172 170 L194 200 M196 180 L214 206" stroke="{L}" stroke-width="4" stroke-linecap="round"/>]],
  jacket = [[
<path d="M156 70 L244 70 L318 106 Q340 116 344 140 L372 290 L326 302 L302 190 L302 342 L98 342 L98 190 L74 302 L28 290 L56 140 Q60 116 82
  106 Z" fill="{F}" stroke="{L}" stroke-width="4" stroke-linejoin="round"/>
<path d="M156 70 L200 120 L244 70 M200 120 L200 342" fill="none" stroke="{L}" stroke-width="4"/>
<path d="M120 250 L170 250 M230 250 L280 250" stroke="{L}" stroke-width="5" stroke-linecap="round"/>]],
  hat = [[
<path d="M100 260 Q96 110 200 104 Q304 110 300 260 Z" fill="{F}" stroke="{L}" stroke-width="4"/>
<path d="M90 250 L310 250 L310 296 L90 296 Z" fill="{F}" stroke="{L}" stroke-width="4"/>
<path d="M130 254 L130 292 M170 254 L170 292 M210 254 L210 292 M250 254 L250 292 M290 254 L290 292" stroke="#000" stroke-width="3" opacity=".15"/>]],
  cap = [[
<path d="M96 230 Q100 120 200 116 Q300 120 304 230 Z" fill="{F}" stroke="{L}" stroke-width="4"/>
<path d="M96 230 L304 230 Q366 236 372 262 L120 262 Q90 256 96 230 Z" fill="{F}" stroke="{L}" stroke-width="4"/>
<circle cx="200" cy="116" r="8" fill="{F}"/>]],
  bag = [[
<path d="M150 150 Q150 70 200 70 Q250 70 250 150" fill="none" stroke="{L}" stroke-width="12"/>
<path d="M90 140 L310 140 L330 340 L70 340 Z" fill="{F}" stroke="{L}" stroke-width="4" stroke-linejoin="round"/>]],
  socks = [[
<path d="M120 60 L190 60 L190 250 Q190 300 150 320 L96 340 Q60 344 58 312 Q60 286 96 274 L120 264 Z" fill="{F}" stroke="{L}" stroke-width="4"/>
<path d="M210 60 L280 60 L280 250 Q280 300 240 320 L186 340" fill="none" stroke="{L}" stroke-width="4"/>
<path d="M120 84 L190 84 M120 100 L190 100" stroke="{L}" stroke-width="4"/>]],
  glasses = [[
<circle cx="132" cy="210" r="62" fill="{F}" stroke="{L}" stroke-width="6"/>
<circle cx="268" cy="210" r="62" fill="{F}" stroke="{L}" stroke-width="6"/>
<path d="M194 206 Q200 192 206 206 M70 200 L30 180 M330 200 L370 180" fill="none" stroke="{L}" stroke-width="6"/>]],
  belt = [[
<rect x="30" y="180" width="340" height="44" rx="6" fill="{F}" stroke="{L}" stroke-width="4"/>
<rect x="150" y="168" width="64" height="68" rx="6" fill="none" stroke="#c9a227" stroke-width="10"/>]],
}

local KINDS = {
  { "hoodie", "hoodie" }, { "t%-shirt", "tshirt" }, { "jeans", "jeans" }, { "sneakers", "shoe" },
  { "shoes", "shoe" }, { "boots", "shoe" }, { "slip%-ons", "shoe" }, { "jacket", "jacket" }, { "coat", "jacket" },
  { "beanie", "hat" }, { "cap", "cap" }, { "bag", "bag" }, { "socks", "socks" }, { "sunglasses", "glasses" },
  { "belt", "belt" },
}

local function pick(list, slug, default)
  for _, entry in ipairs(list) do
    if slug:find(entry[1]) then return entry[2] end
  end
  return default
end

-- Darker line colour for a fill: each channel at 55%.
local function darker(hex)
  local r, g, b = hex:match("#(%x%x)(%x%x)(%x%x)")
  local function ch(x) return math.floor(tonumber(x, 16) * 0.55) end
  return string.format("#%02x%02x%02x", ch(r), ch(g), ch(b))
end

-- The SVG for a slug (lower-case letters, digits and dashes), or nil.
function M.svg(slug)
  if type(slug) ~= "string" or not slug:match("^[a-z0-9-]+$") or #slug > 80 then return nil end
  local shape = SHAPES[pick(KINDS, slug, "bag")]
  local fill = pick(COLOURS, slug, "#7a8290")
  local line = darker(fill)
  local stripes = ""
  if slug:find("striped") then
    stripes = '<g clip-path="url(#body)" stroke="#f3f1ec" stroke-width="12">'
    for y = 110, 330, 36 do stripes = stripes .. '<path d="M0 ' .. y .. ' L400 ' .. y .. '"/>' end
    stripes = stripes .. "</g>"
  end
  return table.concat({
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" role="img">',
    '<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">',
    '<stop offset="0" stop-color="#f6f3ee"/><stop offset="1" stop-color="#e9e3d9"/></linearGradient>',
    stripes ~= "" and ('<clipPath id="body">' .. shape:match('<path d="[^"]+"') .. '/></clipPath>') or "",
    '</defs><rect width="400" height="400" fill="url(#bg)"/>',
    '<ellipse cx="200" cy="360" rx="150" ry="14" fill="#000" opacity=".07"/>',
    (shape:gsub("{F}", fill):gsub("{L}", line)), stripes, "</svg>",
  })
end

-- nginx content handler: GET /images/<slug>.svg
function M.serve(slug)
  local svg = M.svg(slug)
  if not svg then return ngx.exit(404) end
  ngx.header["Content-Type"] = "image/svg+xml"
  ngx.header["Cache-Control"] = "public, max-age=3600"
  ngx.print(svg)
end

return M

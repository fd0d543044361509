-- The ids and question of the API docs' own example, shared by the specs.
return {
  BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f",
  USER = "1bd2e7c4-8a90-4b17-9f36-6e2b5d8f7a3e",
  HOODIE = "Does the blue hoodie come in size L?",
  PAGE = "https://store.com/products/blue-hoodie",
}

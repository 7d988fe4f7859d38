empty = {}
list = [
  1,
  2.5,
  true,
  null,
  "$${a}",
]
obj = {
  "key with space" = {
    "x" = "y"
  }
  "null" = null
}

backslash = "a\\b\\\\c\\"
backtick = "`id` \\`x\\`"
bool = true
cr = "a\rb"
crlf = "a\r\nb"
dollar = "$HOME $${X} $(id) %%{y} $"
dollars = "$$${x} %%%{y} $$"
empty = ""
equals = "a=b==c"
hash = "#not a comment"
heredoc = "x\nESCC_EOF\ny"
nested = {
  "empty" = {}
  "list" = [
    1,
    2.5,
    true,
    null,
    "$${a}",
  ]
  "obj" = {
    "key with space" = {
      "x" = "y"
    }
    "null" = null
  }
}
newlines = "one\ntwo\n"
nil = null
number = 42
percent = "100%25 %0A"
quotes = "it's \"quoted\" ‘curly’ ’"
secret = "s3cr3t 'q' \"d\" $X\n  line two\nend"
spaces = "  lead and trail  "
tab = "a\tb"
token = "tok\"$en'=Zq"
unicode = "ü 日本 “y” 🎉   "

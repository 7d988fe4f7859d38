$env:BACKSLASH = 'a\b\\c\'
$env:BACKTICK = '`id` \`x\`'
$env:BOOL = 'true'
$env:CR = 'ab'
$env:CRLF = 'a
b'
$env:DOLLAR = '$HOME ${X} $(id) %{y} $'
$env:DOLLARS = '$${x} %%{y} $$'
$env:EMPTY = ''
$env:EQUALS = 'a=b==c'
$env:HASH = '#not a comment'
$env:HEREDOC = 'x
ESCC_EOF
y'
$env:NEWLINES = 'one
two
'
$env:NIL = ''
$env:NUMBER = '42'
$env:PERCENT = '100%25 %0A'
$env:QUOTES = 'it''s "quoted" ‘‘curly’’ ’’'
$env:SECRET = 's3cr3t ''q'' "d" $X
  line two
end'
$env:SPACES = '  lead and trail  '
$env:TAB = 'a	b'
$env:TOKEN = 'tok"$en''=Zq'
$env:UNICODE = 'ü 日本 “y” 🎉   '

set -gx BACKSLASH 'a\\b\\\\c\\'
set -gx BACKTICK '`id` \\`x\\`'
set -gx BOOL 'true'
set -gx CR 'ab'
set -gx CRLF 'a
b'
set -gx DOLLAR '$HOME ${X} $(id) %{y} $'
set -gx DOLLARS '$${x} %%{y} $$'
set -gx EMPTY ''
set -gx EQUALS 'a=b==c'
set -gx HASH '#not a comment'
set -gx HEREDOC 'x
ESCC_EOF
y'
set -gx NEWLINES 'one
two
'
set -gx NIL ''
set -gx NUMBER '42'
set -gx PERCENT '100%25 %0A'
set -gx QUOTES 'it\'s "quoted" ‘curly’ ’'
set -gx SECRET 's3cr3t \'q\' "d" $X
  line two
end'
set -gx SPACES '  lead and trail  '
set -gx TAB 'a	b'
set -gx TOKEN 'tok"$en\'=Zq'
set -gx UNICODE 'ü 日本 “y” 🎉   '

export BACKSLASH='a\b\\c\'
export BACKTICK='`id` \`x\`'
export BOOL='true'
export CR='ab'
export CRLF='a
b'
export DOLLAR='$HOME ${X} $(id) %{y} $'
export DOLLARS='$${x} %%{y} $$'
export EMPTY=''
export EQUALS='a=b==c'
export HASH='#not a comment'
export HEREDOC='x
ESCC_EOF
y'
export NEWLINES='one
two
'
export NIL=''
export NUMBER='42'
export PERCENT='100%25 %0A'
export QUOTES='it'\''s "quoted" ‘curly’ ’'
export SECRET='s3cr3t '\''q'\'' "d" $X
  line two
end'
export SPACES='  lead and trail  '
export TAB='a	b'
export TOKEN='tok"$en'\''=Zq'
export UNICODE='ü 日本 “y” 🎉   '

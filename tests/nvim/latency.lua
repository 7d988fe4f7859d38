-- Times, as Neovim's LSP client sees them, `escc lsp` on the large app.yaml of the project
-- in $ESCC_NVIM_PROJECT (scripts/lsp-latency.py's generated document): opening it to its
-- diagnostics, an edit to its diagnostics (line $ESCC_NVIM_EDIT_LINE, `${org}` and
-- `${orh}` in turn, so one error then none), and hovers on a reference, settled and right
-- after an edit. Writes the milliseconds to $ESCC_NVIM_OUT as JSON (tests/it/nvim.rs
-- prints them), or the error, then exits with status 1. Every wait is bounded.
local project = assert(os.getenv('ESCC_NVIM_PROJECT'), 'ESCC_NVIM_PROJECT is not set')
local out_path = assert(os.getenv('ESCC_NVIM_OUT'), 'ESCC_NVIM_OUT is not set')
local edit_line = assert(tonumber(os.getenv('ESCC_NVIM_EDIT_LINE')), 'ESCC_NVIM_EDIT_LINE')
local ROUNDS = 10
local TIMEOUT_MS = 60000

local published = 0
local last_at = 0
local neovims = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, params, ctx, config)
  if params.uri:sub(-#'/app.yaml') == '/app.yaml' then
    published = published + 1
    last_at = vim.loop.hrtime()
  end
  return neovims(err, params, ctx, config)
end

local function wait_for(what, condition)
  if not vim.wait(TIMEOUT_MS, condition, 1) then
    error('timed out after ' .. TIMEOUT_MS .. ' ms waiting for ' .. what)
  end
end

local function ms(from, to)
  return (to - from) / 1e6
end

local function hover()
  local start = vim.loop.hrtime()
  local answers = vim.lsp.buf_request_sync(0, 'textDocument/hover',
    vim.lsp.util.make_position_params(), TIMEOUT_MS)
  local took = ms(start, vim.loop.hrtime())
  local _, answer = next(answers or {})
  if not (answer and answer.result and answer.result.contents) then
    error('no hover: ' .. vim.inspect(answers))
  end
  return took
end

-- `${org}` <-> `${orh}` on the edit line: round `i` breaks the reference when odd.
local col = #'  target: ${or'
local function edit(i)
  local letter = (i % 2 == 1) and 'h' or 'g'
  vim.api.nvim_buf_set_text(0, edit_line, col, edit_line, col + 1, { letter })
  return (i % 2 == 1) and 1 or 0
end

local function run()
  local result = { open = nil, change = {}, hover_settled = {}, hover_after_edit = {} }
  local start = vim.loop.hrtime()
  vim.cmd('edit ' .. vim.fn.fnameescape(project .. '/app.yaml'))
  wait_for('the first diagnostics', function()
    return published > 0
  end)
  result.open = ms(start, last_at)
  result.lines = vim.api.nvim_buf_line_count(0)

  for i = 1, ROUNDS do
    -- Apart by more than Neovim's 150 ms debounce, so each change is sent at once.
    vim.wait(200)
    local before = published
    start = vim.loop.hrtime()
    local expected = edit(i)
    wait_for('diagnostics after edit ' .. i, function()
      return published > before and #vim.diagnostic.get(0) == expected
    end)
    table.insert(result.change, ms(start, last_at))
  end

  -- The cursor on the first `${region}` below the edit line.
  local placed = false
  for offset, text in ipairs(vim.api.nvim_buf_get_lines(0, edit_line + 1, -1, false)) do
    local c = text:find('${region}', 1, true)
    if c then
      vim.api.nvim_win_set_cursor(0, { edit_line + 1 + offset, c + 2 })
      placed = true
      break
    end
  end
  assert(placed, 'no ${region} below the edit line')
  for _ = 1, ROUNDS do
    table.insert(result.hover_settled, hover())
  end
  for i = ROUNDS + 1, 2 * ROUNDS do
    vim.wait(200)
    edit(i)
    table.insert(result.hover_after_edit, hover())
  end
  return result
end

local function write(result)
  local file = assert(io.open(out_path, 'w'))
  file:write(vim.fn.json_encode(result))
  file:close()
end

local ok, result = xpcall(run, debug.traceback)
if ok then
  write(result)
  vim.cmd('qall!')
else
  write({ error = result })
  vim.cmd('cquit 1')
end

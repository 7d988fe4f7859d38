-- Drives Neovim's own LSP client (configured by init.lua beside this file) against
-- `escc lsp` on the project in $ESCC_NVIM_PROJECT, and writes what the editor got to
-- $ESCC_NVIM_OUT as JSON; tests/it/nvim.rs asserts on it. Every wait is bounded, and any
-- error is written there too, then Neovim exits with status 1.
-- Works with Neovim 0.7 (Debian 12's), the oldest with vim.api.nvim_create_autocmd.
local project = assert(os.getenv('ESCC_NVIM_PROJECT'), 'ESCC_NVIM_PROJECT is not set')
local out_path = assert(os.getenv('ESCC_NVIM_OUT'), 'ESCC_NVIM_OUT is not set')
local TIMEOUT_MS = 30000

-- Every publishDiagnostics (its URI and when it arrived), then Neovim's own handler.
local published = {}
local neovims = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, params, ctx, config)
  table.insert(published, { uri = params.uri, at = vim.loop.hrtime() })
  return neovims(err, params, ctx, config)
end

local function wait_for(what, condition)
  if not vim.wait(TIMEOUT_MS, condition, 5) then
    error('timed out after ' .. TIMEOUT_MS .. ' ms waiting for ' .. what)
  end
end

local function publishes(uri)
  local n = 0
  for _, p in ipairs(published) do
    if p.uri == uri then
      n = n + 1
    end
  end
  return n
end

-- Puts the cursor on the first occurrence of `needle` in the current buffer, `delta` bytes in.
local function cursor_on(needle, delta)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      vim.api.nvim_win_set_cursor(0, { i, col - 1 + (delta or 0) })
      return
    end
  end
  error('not in ' .. vim.api.nvim_buf_get_name(0) .. ': ' .. needle)
end

local function floating_windows()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      table.insert(found, win)
    end
  end
  return found
end

local function diagnostics_of(bufnr)
  local got = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(got, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, message = d.message, code = d.code, source = d.source,
    })
  end
  return got
end

local function run()
  local result = {}
  vim.cmd('edit ' .. vim.fn.fnameescape(project .. '/app.yaml'))
  local app = vim.api.nvim_get_current_buf()
  local app_uri = vim.uri_from_bufnr(app)
  result.filetype = vim.bo[app].filetype
  result.lsp_log = vim.lsp.get_log_path()

  -- Diagnostics: the server's first publication for the document, as Neovim stores it
  -- (0-based lines, byte columns converted from the server's UTF-16 positions).
  wait_for('diagnostics of app.yaml', function()
    return publishes(app_uri) > 0
  end)
  result.clients = #vim.lsp.buf_get_clients(app)
  result.diagnostics = diagnostics_of(app)

  -- Hover on a reference through the import: the floating window Neovim opens, as shown.
  cursor_on('${db.host}', 5)
  vim.lsp.buf.hover()
  wait_for('the hover window', function()
    return #floating_windows() > 0
  end)
  local float = floating_windows()[1]
  result.hover = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)

  -- Hover on a reference to a secret: shown as [secret].
  cursor_on('${db.password}', 5)
  vim.lsp.buf.hover()
  wait_for('the hover window on the secret', function()
    return #floating_windows() > 0
  end)
  float = floating_windows()[1]
  result.secret_hover = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)

  -- Go to definition across the import: Neovim opens base.yaml at the defining key.
  cursor_on('${region}', 3)
  vim.lsp.buf.definition()
  wait_for('the jump to base.yaml', function()
    return vim.api.nvim_get_current_buf() ~= app
  end)
  local cursor = vim.api.nvim_win_get_cursor(0)
  result.definition = {
    file = vim.api.nvim_buf_get_name(0),
    row = cursor[1],
    col = cursor[2],
    line = vim.api.nvim_get_current_line(),
  }
  -- The same from an accessor of a nested path, back in app.yaml.
  vim.cmd('buffer ' .. app)
  cursor_on('${db.port}', 5)
  vim.lsp.buf.definition()
  wait_for('the jump to base.yaml from db.port', function()
    return vim.api.nvim_get_current_buf() ~= app
  end)
  cursor = vim.api.nvim_win_get_cursor(0)
  result.nested_definition = {
    file = vim.api.nvim_buf_get_name(0),
    row = cursor[1],
    col = cursor[2],
    line = vim.api.nvim_get_current_line(),
  }
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

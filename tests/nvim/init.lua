-- escc's language server in Neovim 0.7 to 0.9 (no vim.lsp.start before 0.8, no
-- vim.lsp.config before 0.11): one client per project root (the directory holding
-- escc.toml, else the file's directory), attached to every YAML buffer below it.
-- docs/lsp.md shows this file; tests/it/nvim.rs runs Neovim with it.
local escc_clients = {}
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'yaml',
  callback = function(args)
    local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ':p:h')
    local marker = vim.fn.findfile('escc.toml', dir .. ';')
    local root = marker ~= '' and vim.fn.fnamemodify(marker, ':p:h') or dir
    local id = escc_clients[root]
    if id == nil or vim.lsp.client_is_stopped(id) then
      id = vim.lsp.start_client({ name = 'escc', cmd = { 'escc', 'lsp' }, root_dir = root })
      escc_clients[root] = id
    end
    vim.lsp.buf_attach_client(args.buf, id)
  end,
})

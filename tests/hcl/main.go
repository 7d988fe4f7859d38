// Reads a Terraform variable definitions file (`*.tfvars`) as Terraform does (HashiCorp's
// HCL parser, each attribute's expression evaluated with no context) and prints its
// variables as JSON, for tests/it/export.rs to compare with `escc export --target
// tfvars-json`.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2/hclparse"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func main() {
	file, diags := hclparse.NewParser().ParseHCLFile(os.Args[1])
	if diags.HasErrors() {
		fmt.Fprintln(os.Stderr, diags.Error())
		os.Exit(1)
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		fmt.Fprintln(os.Stderr, diags.Error())
		os.Exit(1)
	}
	out := map[string]json.RawMessage{}
	for name, attr := range attrs {
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			fmt.Fprintln(os.Stderr, diags.Error())
			os.Exit(1)
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out[name] = b
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

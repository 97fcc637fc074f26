package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{
		"USER_NAME": "alice",
		"QUOTED":    `pa"ss\word`,
		"APOS":      "it's",
		"HASHY":     "#secret",
		"MULTI":     "a\nb",
		"EMPTY":     "",
		"N":         "4",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name, in, want, err string
	}{
		{"plain", "user: ${USER_NAME}\n", "user: alice\n", ""},
		{"inside text", "path: /home/${USER_NAME}/docs\n", "path: /home/alice/docs\n", ""},
		{"number", "connections: ${N}\n", "connections: 4\n", ""},
		{"empty value", "password: \"${EMPTY}\"\n", "password: \"\"\n", ""},
		{"bcrypt untouched", "password_hash: $2a$10$abc.def/XYZ\n", "password_hash: $2a$10$abc.def/XYZ\n", ""},
		{"bare dollar untouched", "a: $HOME and $ and $$\n", "a: $HOME and $ and $$\n", ""},
		{"escape", "a: \"$${USER_NAME}\"\n", "a: \"${USER_NAME}\"\n", ""},
		{"comment untouched", "a: b # see ${NOT_SET_ANYWHERE}\n# ${ALSO_NOT}\n", "a: b # see ${NOT_SET_ANYWHERE}\n# ${ALSO_NOT}\n", ""},
		{"hash inside value is not a comment", "a: x#${USER_NAME}\n", "a: x#alice\n", ""},
		{"hash inside quotes is not a comment", "a: \"x #${USER_NAME}\"\n", "a: \"x #alice\"\n", ""},
		{"double quoted escaped", "p: \"${QUOTED}\"\n", `p: "pa\"ss\\word"` + "\n", ""},
		{"double quoted newline", "p: \"${MULTI}\"\n", `p: "a\nb"` + "\n", ""},
		{"single quoted escaped", "p: '${APOS}'\n", "p: 'it''s'\n", ""},
		{"apostrophe in plain text", "a: it's ${USER_NAME} # ok\n", "a: it's alice # ok\n", ""},
		{"crlf", "a: ${USER_NAME}\r\nb: c\r\n", "a: alice\r\nb: c\r\n", ""},
		{"unset", "a: 1\nb: ${NOPE}\n", "", "line 2: ${NOPE} is not set"},
		{"unclosed", "a: ${USER_NAME\n", "", `line 1: "${USER_NAME" has no closing "}"`},
		{"shell default syntax", "a: ${X:-y}\n", "", "line 1: ${X:-y} is not a variable reference"},
		{"empty name", "a: ${}\n", "", "line 1: ${} is not a variable reference"},
		{"plain unsafe", "p: ${HASHY}\n", "", `line 1: the value of ${HASHY} has characters YAML would misread here`},
		{"plain newline", "p: ${MULTI}\n", "", `write "${MULTI}" in double quotes`},
		{"single quoted newline", "p: '${MULTI}'\n", "", "single quotes cannot hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := expand([]byte(tt.in), lookup)
			if tt.err != "" {
				if len(errs) == 0 {
					t.Fatalf("want error %q, got output %q", tt.err, got)
				}
				if !strings.Contains(errs[0].Error(), tt.err) {
					t.Fatalf("want error containing %q, got %v", tt.err, errs[0])
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExpandReportsEveryUnsetVariable(t *testing.T) {
	_, errs := expand([]byte("a: ${ONE}\nb: ok\nc: ${TWO} ${THREE}\n"), func(string) (string, bool) { return "", false })
	if len(errs) != 3 {
		t.Fatalf("want 3 errors, got %d: %v", len(errs), errs)
	}
	for i, want := range []string{"line 1: ${ONE}", "line 3: ${TWO}", "line 3: ${THREE}"} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], want)
		}
	}
}

// TestReferences lists the variables a file would need, as an installer
// sees them: each once, sorted, none from comments or $${ escapes.
func TestReferences(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	data := "password: \"${B_PW}\"  # or ${IN_COMMENT}\n# hash: ${COMMENTED}\nuser: ${A_USER}\nliteral: \"$${NOT_A_REF}\"\nagain: ${B_PW}\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := References(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A_USER", "B_PW"}; !slices.Equal(got, want) {
		t.Errorf("References = %q, want %q", got, want)
	}
}

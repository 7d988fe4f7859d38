// The External Secrets Operator's Pulumi provider (v0.16.2), unchanged, against a server named
// by environment variables (tests/it/serve_clients.rs starts `escc serve` and runs this binary).
// Built by `.ci/run` with `go test -c`; never part of escc itself.
//
// ESCC_ESO_URL      the API root as ESO's `apiUrl`, e.g. http://127.0.0.1:PORT/api/esc
// ESCC_ESO_ORG, ESCC_ESO_PROJECT, ESCC_ESO_ENV   the environment the SecretStore names
// ESCC_ESO_TOKEN    the access token (held in a Kubernetes Secret of a fake API server)
// ESCC_ESO_KEY      the property GetSecret reads; ESCC_ESO_EXPECTED its expected value
// ESCC_ESO_MAP_KEY  an object property GetSecretMap reads; ESCC_ESO_MAP_EXPECTED its
//                   expected value as k=v pairs joined by ","
// ESCC_ESO_PUSH_KEY a property PushSecret writes (with ESCC_ESO_PUSH_VALUE), read back
// ESCC_ESO_EXPECT_ERROR  when set, GetSecret must fail with an error containing it
package harness

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esv1alpha1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1alpha1"
	esmeta "github.com/external-secrets/external-secrets/apis/meta/v1"
	"github.com/external-secrets/external-secrets/pkg/provider/pulumi"
)

func env(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set", name)
	}
	return v
}

func newClient(t *testing.T) esv1.SecretsClient {
	const ns = "default"
	store := &esv1.SecretStore{
		ObjectMeta: metav1.ObjectMeta{Name: "escc", Namespace: ns},
		Spec: esv1.SecretStoreSpec{Provider: &esv1.SecretStoreProvider{Pulumi: &esv1.PulumiProvider{
			APIURL:       env(t, "ESCC_ESO_URL"),
			Organization: env(t, "ESCC_ESO_ORG"),
			Project:      env(t, "ESCC_ESO_PROJECT"),
			Environment:  env(t, "ESCC_ESO_ENV"),
			AccessToken: &esv1.PulumiProviderSecretRef{SecretRef: &esmeta.SecretKeySelector{
				Name: "pulumi-token", Key: "token",
			}},
		}}},
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pulumi-token", Namespace: ns},
		Data:       map[string][]byte{"token": []byte(env(t, "ESCC_ESO_TOKEN"))},
	}).Build()
	p := &pulumi.Provider{}
	if _, err := p.ValidateStore(store); err != nil {
		t.Fatalf("ValidateStore: %v", err)
	}
	c, err := p.NewClient(context.Background(), store, kube, ns)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestGetSecret(t *testing.T) {
	c := newClient(t)
	got, err := c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: env(t, "ESCC_ESO_KEY")})
	if want := os.Getenv("ESCC_ESO_EXPECT_ERROR"); want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("GetSecret: want an error containing %q, got %v", want, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("GetSecret: %v", err)
	}
	// Compared, never printed: the value is a secret.
	if string(got) != env(t, "ESCC_ESO_EXPECTED") {
		t.Fatalf("GetSecret returned a value of %d bytes, not the expected one", len(got))
	}
}

func TestGetSecretMap(t *testing.T) {
	key := os.Getenv("ESCC_ESO_MAP_KEY")
	if key == "" {
		t.Skip("ESCC_ESO_MAP_KEY is not set")
	}
	c := newClient(t)
	got, err := c.GetSecretMap(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: key})
	if err != nil {
		t.Fatalf("GetSecretMap: %v", err)
	}
	pairs := make([]string, 0, len(got))
	for k, v := range got {
		pairs = append(pairs, k+"="+string(v))
	}
	sort.Strings(pairs)
	if strings.Join(pairs, ",") != env(t, "ESCC_ESO_MAP_EXPECTED") {
		t.Fatalf("GetSecretMap returned %d keys, not the expected ones", len(got))
	}
}

func TestPushSecret(t *testing.T) {
	key := os.Getenv("ESCC_ESO_PUSH_KEY")
	if key == "" {
		t.Skip("ESCC_ESO_PUSH_KEY is not set")
	}
	c := newClient(t)
	value := env(t, "ESCC_ESO_PUSH_VALUE")
	secret := &corev1.Secret{Data: map[string][]byte{"pushed": []byte(value)}}
	data := esv1alpha1.PushSecretData{Match: esv1alpha1.PushSecretMatch{
		SecretKey: "pushed", RemoteRef: esv1alpha1.PushSecretRemoteRef{RemoteKey: key},
	}}
	if err := c.PushSecret(context.Background(), secret, data); err != nil {
		t.Fatalf("PushSecret: %v", err)
	}
	got, err := c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: key})
	if err != nil {
		t.Fatalf("GetSecret after PushSecret: %v", err)
	}
	if string(got) != value {
		t.Fatalf("GetSecret after PushSecret returned %d bytes, not the pushed value", len(got))
	}
}

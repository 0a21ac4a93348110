/* receipt_make.c — libFuzzer target for the recipient's side of RFC 2634 (lib/receipt.c):
 * arbitrary DER as the SignedData of a message that asks for a receipt. The ReceiptRequest
 * (receiptsFrom: allOrFirstTier or a receiptList; receiptsTo), the mlExpansionHistory
 * check and the receipt signing must never crash; a receipt is made only for a request,
 * never for a receipt, and goes only to addresses that are one printable token with an @.
 * Every other input is answered as if alice@example.org had signed it (the default: only
 * receiptsTo addresses the sender's certificate names), the others as --any-receipts-to:
 * then no address outside the sender's is kept, and none that is dropped is the sender's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "keys.h"
#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keys_identity id;

/* A P-256 key and a self-signed certificate for bob@example.org, made once. */
static void
identity(void)
{
	X509_NAME *n;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	if ((id.pkey = EVP_EC_gen("P-256")) == NULL || (id.cert = X509_new()) == NULL
	    || (id.chain = sk_X509_new_null()) == NULL)
		abort();
	n = X509_get_subject_name(id.cert);
	if (!X509_set_version(id.cert, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1)
	    || !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Bob", -1,
	    -1, 0) || !X509_set_issuer_name(id.cert, n)
	    || !X509_gmtime_adj(X509_getm_notBefore(id.cert), 0)
	    || !X509_gmtime_adj(X509_getm_notAfter(id.cert), 86400)
	    || !X509_set_pubkey(id.cert, id.pkey))
		abort();
	X509V3_set_ctx(&ctx, id.cert, id.cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "email:bob@example.org"))
	    == NULL || !X509_add_ext(id.cert, ext, -1))
		abort();
	X509_EXTENSION_free(ext);
	if (!X509_sign(id.cert, id.pkey, EVP_sha256()))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf der = BUF_INIT;
	struct err e;
	static char *const sender[] = { "alice@example.org", NULL };
	char *const *who = size % 2 ? NULL : sender;
	char **to = NULL, **dropped = NULL, why[300];
	const unsigned char *p = data;
	CMS_ContentInfo *cms;
	size_t i, k;
	int rc, is_receipt = 0;

	if (id.pkey == NULL)
		identity();
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)size)) != NULL) {
		const ASN1_OBJECT *ct = CMS_get0_eContentType(cms);

		is_receipt = ct != NULL && OBJ_obj2nid(ct) == NID_id_smime_ct_receipt;
		CMS_ContentInfo_free(cms);
	}
	rc = receipt_make(data, size, &id, who, &der, &to, &dropped, why, sizeof why, &e);
	for (i = 0; dropped != NULL && dropped[i] != NULL; i++)
		if (who == NULL || addr_spec_eq(dropped[i], sender[0]))
			abort();
	if (rc == 0) {
		if (is_receipt || der.len == 0 || to == NULL || to[0] == NULL)
			abort();
		for (i = 0; to[i] != NULL; i++) {
			if (strchr(to[i], '@') == NULL)
				abort();
			for (k = 0; to[i][k] != '\0'; k++)
				if ((unsigned char)to[i][k] <= ' ' || (unsigned char)to[i][k] >= 0x7f
				    || strchr(",;<>()\"\\", to[i][k]) != NULL)
					abort();
			if (who != NULL && !addr_spec_eq(to[i], sender[0]))
				abort();
		}
	} else if (rc == 1) {
		if (to != NULL || why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL)
			abort();
	} else if (rc != -1 || to != NULL || dropped != NULL) {
		abort();
	}
	keys_addrs_free(to);
	keys_addrs_free(dropped);
	buf_free(&der);
	return 0;
}

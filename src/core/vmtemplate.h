/*
 * vmtemplate.h: VM templates and documents, the objects a VMTEMPLATE or
 * SERVICE_TEMPLATE app is exported to.
 *
 * marketd runs no VMs: a VM template here is what `onemarketapp export`
 * leaves in oned (a TEMPLATE whose DISKs name the exported images), kept
 * with OpenNebula's element names (VMTEMPLATE, DOCUMENT) so OpenNebula
 * tools can read it, and a service template is a DOCUMENT of TYPE 101
 * (OneFlow's ServiceTemplate; 100 is a running Service) whose
 * TEMPLATE/BODY is the service's JSON.
 */
#ifndef MKT_VMTEMPLATE_H
#define MKT_VMTEMPLATE_H

#include "object.h"

/* OpenNebula::ServiceTemplate::DOCUMENT_TYPE: its Ruby info() refuses a
 * document of any other TYPE. */
#define MKT_DOCUMENT_SERVICE_TEMPLATE 101

typedef struct {
	mkt_object obj;          /* first */
	long long regtime;
	int type;                /* documents: TYPE; VM templates: unused */
} mkt_vmtemplate;

extern const mkt_class mkt_vmtemplate_class;
extern const mkt_class mkt_document_class;

/*
 * Create a VM template (@cls mkt_vmtemplate_class) or a document
 * (mkt_document_class, of @type) named @name owned by @who, with @tmpl
 * (taken over) as its template.  A document without a name (NULL or "")
 * is named document-<id>.  Its own transaction (nests).
 */
int mkt_vmtemplate_create(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			  const char *name, int type, mkt_template *tmpl, int *out_id);

/*
 * one.template.allocate / one.document.allocate (of @type): @text is
 * template text or XML whose NAME becomes the object's name.  Every
 * authenticated user may create them (oned's default ACL).
 */
int mkt_vmtemplate_allocate(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			    const char *text, int type, int *out_id);

/*
 * one.template.clone / one.document.clone: a copy of @id's template named
 * @name, owned by @who, of the same document TYPE.  Needs USE of the
 * source.  @recursive (copying a VM template's images too) is refused.
 */
int mkt_vmtemplate_clone(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			 int id, const char *name, int recursive, int *out_id);

/* one.template.delete / one.document.delete (MANAGE). */
int mkt_vmtemplate_delete(mkt_core *core, const mkt_class *cls, const mkt_principal *who, int id);

/* one.templatepool.info / one.documentpool.info (@type -1: any). */
int mkt_vmtemplate_pool(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			int filter, int start_id, int end_id, int type, char **out_xml);

#endif

"""Calls a CP-IS gateway through its WSDL with zeep, as a Python integrator would.

zeep reads the WSDL and every schema it includes; from it come the endpoint
(soap:address), the SOAPAction of each operation, the SOAP header blocks
(typed: WS-Addressing 2004/08 and the HL7 devices, rendered by zeep) and the
parsing of every reply: the NHS Query Response or the query failure in the
Body, an LA Upload's FileResponse, or a SOAP fault with its nasp:errorList
detail.

zeep cannot build HL7 V3 bodies from its types (it drops mixed content such
as a person's name), so the HL7 message is sent as the XML it is.

usage: zeep_client.py WSDL_URL < calls.json > results.jsonl
calls.json: [{"name", "operation", "rcv", "snd", "file"}]; file is a SOAP
envelope whose Body holds the HL7 message. One JSON line per call comes out.
"""

import copy
import json
import sys
import uuid

from lxml import etree
from zeep import Client
from zeep.exceptions import Fault

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
HL7 = "urn:hl7-org:v3"
NASP = "http://national.carerecords.nhs.uk/schema/"
ASID_ROOT = "1.2.826.0.1285.0.2.0.107"


def device(asid):
    return {"device": {"id": {"root": ASID_ROOT, "extension": asid}}}


def envelope(operation, headers, message):
    """A SOAP envelope with the WSDL's header blocks, typed and rendered by zeep."""
    value = operation.input.header(**headers)
    env = etree.Element("{%s}Envelope" % SOAP_ENV, nsmap={"soap": SOAP_ENV})
    header = etree.SubElement(env, "{%s}Header" % SOAP_ENV)
    for name, element in operation.input.header.type.elements:
        if value[name] is not None:
            element.render(header, value[name], ["header", name])
    etree.SubElement(env, "{%s}Body" % SOAP_ENV).append(message)
    return env


def text(value):
    # zeep gives a simpleContent type as {_value_1: text, ...}.
    return getattr(value, "_value_1", value)


def query_result(body):
    if body.response is not None:
        act = body.response.ControlActEvent
        records = act.subject["CP-ISNHSQueryResponse"].pertinentInformation14 if act.subject else []
        las, starts = [], []
        for info in records or []:
            for rec in info["pertinentCP-ISRecordControlAct"].record:
                las.append(rec.communicationFunctionSnd.organisation.id.extension)
                for plan in rec["CP-ISRecord"].pertinentInformation15 or []:
                    cpp = plan["COCT_TP146105GB01.CPPInformation"]
                    if cpp is not None:
                        starts.append(cpp.component.cPPStartDate.value.value)
        return {
            "root": "REPC_IN000007GB01",
            "query_response_code": act.queryAck.queryResponseCode.code,
            "local_authorities": las,
            "cpp_start_dates": starts,
        }
    if body.failure is not None:
        act = body.failure.ControlActEvent
        return {
            "root": "QUQI_IN010000UK14",
            "acknowledgement": body.failure.acknowledgement.typeCode,
            "query_response_code": act.queryAck.queryResponseCode.code,
        }
    return {"root": None}


def upload_result(body):
    # One output part: zeep gives the FileResponse itself.
    return {
        "root": "FileResponse",
        "file_outcome": body.acknowledgementFile.acknowledgementFileDetail[0].code.code,
        "successful_records": body["successfulReturnedCP-ISRecords"].value.value,
        "failed_records": body["failedReturnedCP-ISRecords"].value.value,
    }


def main():
    client = Client(sys.argv[1])
    service = client.service
    binding = service._binding
    address = service._binding_options["address"]
    for call in json.load(sys.stdin):
        operation = binding.get(call["operation"])
        doc = etree.parse(call["file"])
        message = copy.deepcopy(doc.find("{%s}Body" % SOAP_ENV)[0])
        headers = {
            "MessageID": "uuid:" + str(uuid.uuid4()).upper(),
            "Action": operation.soapaction,
            "To": address,
            "From": {"Address": "https://zeep.client"},
            "communicationFunctionRcv": device(call["rcv"]),
            "communicationFunctionSnd": device(call["snd"]),
        }
        out = {"name": call["name"], "address": address, "soap_action": operation.soapaction}
        response = client.transport.post_xml(
            address,
            envelope(operation, headers, message),
            {"SOAPAction": '"%s"' % operation.soapaction, "Content-Type": "text/xml; charset=utf-8"},
        )
        try:
            reply = binding.process_reply(client, operation, response)
        except Fault as fault:
            codes = fault.detail.findall(".//{%s}errorCode" % NASP) if fault.detail is not None else []
            out.update({
                "outcome": "fault",
                "http_status": response.status_code,
                "faultstring": fault.message,
                "error_code": codes[0].text if codes else None,
            })
        else:
            out.update({
                "outcome": "reply",
                "http_status": response.status_code,
                "relates_to": text(reply.header.RelatesTo),
                "action": text(reply.header.Action),
                "request_message_id": headers["MessageID"],
            })
            if call["operation"] == "LocalAuthorityUpload":
                out.update(upload_result(reply.body))
            else:
                out.update(query_result(reply.body))
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
